"""Bulk scheduling: a CSV of up to 350 posts, every row checked, then all saved or none.

Two steps, so that a person sees every row checked before anything is saved:

- `check` reads the file (`bulk_csv`), the images it names (`bulk_images`) and the templates
  it uses, and holds every row to the map and the policy in force: the account and the
  person's right to draft there (and to submit), the local time (not skipped or repeated by
  a clock change, not past), the template and its variables (rendered in the sandbox), the
  images (the same check as `pressgate draft --image`) and the content policy. It writes
  nothing. The slow work (parsing, reading images, rendering) happens here, before any
  write transaction opens: on SQLite a write transaction holds the database's one lock.
- `save` writes every row in the caller's one transaction through the same services as
  `pressgate draft` and `submit` (`posts.create_draft`, `posts.submit`), which check again
  what they always check. Any refusal there names the row's line and, since the transaction
  rolls back, nothing of the file is saved.

Blocking policy findings refuse the import only when submitting: drafts may hold them (the
submit gate stops them later), so for drafts they are shown as findings.

Each draft keeps its row's campaign tag and template name (analytics groups posts by them),
and the import itself is one `post.import` entry naming the file's hash and the post of
every line.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from approvals import posts
from approvals.content.images import CheckedImage
from approvals.errors import InvalidInput, PressgateError, Refused
from approvals.importing.bulk_csv import Problem
from approvals.importing.bulk_csv import parse as parse_csv
from approvals.importing.bulk_images import ImageReader, ImageSet, store_image
from approvals.importing.bulk_rows import RowContext, RowResult, check_row
from approvals.models import Person, Post
from approvals.posts import MediaRef, PartInput
from approvals.records import audit
from approvals.records.audit import canonical_json

Progress = Callable[[int, int], None]  # (rows done, rows in all)


@dataclass(frozen=True)
class ImportFile:
    name: str  # for messages: the file as the person knows it
    data: bytes


@dataclass
class ImportPlan:
    """Every row of one file, checked; what `save` writes if nothing stops it."""

    file: str
    sha256: str  # of the CSV file
    rows: list[RowResult] = field(default_factory=list)
    file_problems: list[Problem] = field(default_factory=list)
    unused_images: list[str] = field(default_factory=list)
    images: dict[str, CheckedImage] = field(default_factory=dict, repr=False)  # by sha256

    def problems(self, *, submit: bool) -> list[Problem]:
        found = list(self.file_problems)
        for row in self.rows:
            found += row.problems + (row.submit_problems if submit else [])
        return found

    @property
    def digest(self) -> str:
        """What was checked: the CSV and the images its rows use. A confirmation must carry
        the digest of the upload it confirms, so a changed file is never saved unseen."""
        used = sorted({(u.name, u.sha256) for row in self.rows for u in row.images})
        document = {"csv": self.sha256, "images": [list(pair) for pair in used]}
        return hashlib.sha256(canonical_json(document).encode()).hexdigest()


def check(
    session: Session,
    *,
    actor_email: str,
    upload: ImportFile,
    images: ImageSet,
    now: datetime,
    templates_dir: Path,
    progress: Progress | None = None,
) -> ImportPlan:
    """Check every row of `upload` for `actor_email` (see the module doc). Reads only."""
    plan = ImportPlan(upload.name, hashlib.sha256(upload.data).hexdigest())
    parsed = parse_csv(upload.data)
    plan.file_problems = parsed.problems
    if not parsed.complete:
        return plan
    context = RowContext.load(session, actor_email, parsed.rows, templates_dir)
    reader = ImageReader(images)
    for done, row in enumerate(parsed.rows, start=1):
        plan.rows.append(check_row(row, context, reader, now))
        if progress is not None:
            progress(done, len(parsed.rows))
    plan.unused_images = reader.unused()
    plan.images = {image.sha256: image for image in reader.used()}
    return plan


def save(
    session: Session,
    *,
    actor: Person,
    plan: ImportPlan,
    submit: bool,
    now: datetime,
    progress: Progress | None = None,
) -> list[Post]:
    """Save every row of a checked plan as a draft, or submit them all, in the caller's
    transaction; the posts in row order. Any refusal raises (naming the line) and the
    caller's rollback leaves nothing of the file behind.

    Lock order: the audit head is taken by the first draft's entry and held to the end; the
    posts `submit` locks after it are rows this transaction made, which nobody else can see,
    so the rule that the head is locked last (approvals.db) is not needed for them."""
    problems = plan.problems(submit=submit)
    if problems:
        family = Refused if all(p.refused for p in problems) else InvalidInput
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise family(f"{problems[0].describe(plan.file)}{more}; nothing was saved")
    for image in plan.images.values():
        store_image(session, image, now)
    saved: list[Post] = []
    for done, row in enumerate(plan.rows, start=1):
        media = [MediaRef(u.sha256, u.alt_text) for u in row.images]
        parts = [PartInput(text, media if i == 0 else []) for i, text in enumerate(row.texts)]
        try:
            post = posts.create_draft(
                session,
                actor=actor,
                account_handle=row.account,
                parts=parts,
                now=now,
                scheduled_at=row.scheduled_at,
                campaign=row.campaign,
                template=row.template,
            )
            assert post.id is not None
            if submit:
                post = posts.submit(session, actor=actor, post_id=post.id, now=now)
        except PressgateError as error:
            raise _at_line(error, plan.file, row.line) from None
        saved.append(post)
        if progress is not None:
            progress(done, len(plan.rows))
    audit.record(
        session,
        actor=actor.email,
        action="post.import",
        subject=f"import:{plan.sha256[:16]}",
        at=now,
        details={
            "file": plan.file,
            "sha256": plan.sha256,
            "submitted": submit,
            "posts": [[row.line, post.id] for row, post in zip(plan.rows, saved, strict=True)],
        },
    )
    return saved


def _at_line(error: PressgateError, file: str, line: int) -> PressgateError:
    message = f"{file}, line {line}: {error}; nothing was saved"
    try:
        return type(error)(message)
    except TypeError:  # an error class with a constructor of its own
        return Refused(message) if isinstance(error, Refused) else InvalidInput(message)
