"""`pressgate import`: schedule many posts from a CSV file, all of them or none.

Every row is checked first (`approvals.importing.bulk.check`); a bad file prints one line per
problem on standard error, naming the file, the line and the column, and saves nothing (exit status
2 for input that cannot be used, 1 when only rules refuse: no right on an account, blocking
findings with --submit). Then every row is saved, or submitted, in one transaction.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from bot.cli.common import AsOpt, JsonOpt, app_of, console, error_line, fail, print_json

if TYPE_CHECKING:
    from approvals.importing import bulk
    from approvals.importing.bulk import ImportPlan
    from approvals.importing.bulk_rows import RowResult
    from approvals.models import Post


PROGRESS_ABOVE = 50  # rows; smaller files are checked before anyone would look


def register(app: typer.Typer) -> None:
    app.command("import")(import_)


def import_(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="The CSV file: a header row, then one post per row.",
            dir_okay=False,
            show_default=False,
        ),
    ],
    actor: AsOpt,
    submit: Annotated[
        bool, typer.Option("--submit", help="Submit every post for approval, not just save.")
    ] = False,
    images: Annotated[
        Path | None,
        typer.Option(
            "--images",
            help="Folder holding the image files the CSV names (by file name only).",
            file_okay=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row and save nothing.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Schedule posts from a CSV file: every row is checked, then all are saved or none.

    Columns (any order, names in any case): account, date and time (or datetime) in the
    account's time zone, text (thread parts split by a line of '---'), image and alt_text
    (';'-separated), template and vars (name=value;name=value), campaign.
    """
    from approvals.importing import bulk
    from approvals.importing.bulk import ImportFile
    from approvals.importing.bulk_images import DirectoryImages, ImageSet, NoImages

    app = app_of(ctx)
    data = _read(file)
    name = str(file)
    now = app.clock.now()
    with app.session(read_only=True) as session:
        app.person(session, actor)  # someone the map names, before anything is read for them
        image_set: ImageSet = DirectoryImages(images) if images is not None else NoImages()
        plan = bulk.check(
            session,
            actor_email=actor,
            upload=ImportFile(name, data),
            images=image_set,
            now=now,
            templates_dir=app.settings.templates_dir,
            progress=_progress("checked", sys.stderr),
        )
    problems = plan.problems(submit=submit)
    for problem in problems:
        error_line(problem.describe(name))
    if problems:
        raise typer.Exit(1 if all(p.refused for p in problems) else 2)
    saved: list[Post] = []
    if not dry_run:
        with app.session() as session:
            saved = bulk.save(
                session,
                actor=app.person(session, actor),
                plan=plan,
                submit=submit,
                now=now,
                progress=_progress("saved", sys.stderr),
            )
    _render(plan, saved, submit=submit, dry_run=dry_run, json_out=json_out)


def _read(file: Path) -> bytes:
    """The file, never read past the largest a bulk file may be (the check says so)."""
    from approvals.importing.bulk_csv import MAX_FILE_BYTES

    try:
        with file.open("rb") as stream:
            return stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        fail(f"{file}: cannot be read ({exc.strerror or exc})")


def _progress(verb: str, stream: TextIO) -> bulk.Progress | None:
    """A line on a terminal that counts rows, for files long enough to wait for."""
    if not stream.isatty():
        return None

    def show(done: int, total: int) -> None:
        if total <= PROGRESS_ABOVE or (done % 10 and done != total):
            return
        stream.write(f"\r{verb} {done}/{total} rows")
        if done == total:
            stream.write("\n")
        stream.flush()

    return show


def _render(
    plan: ImportPlan, saved: list[Post], *, submit: bool, dry_run: bool, json_out: bool
) -> None:
    if json_out:
        print_json(_as_json(plan, saved, submit=submit, dry_run=dry_run))
        return
    from rich.table import Table  # loaded by the commands that print one

    table = Table()
    for heading in ("line", "account", "publish at", "text", "images", "findings", "post"):
        # the row's place and time stay whole; the words and findings wrap
        table.add_column(heading, no_wrap=heading not in {"text", "findings"})
    for row, post in zip(plan.rows, _posts(plan, saved), strict=True):
        table.add_row(
            str(row.line),
            row.account,
            row.scheduled_local,
            row.preview,
            str(len(row.images)) if row.images else "",
            "; ".join(f"{f.severity} {f.rule}" for f in row.findings),
            f"{post.id} ({post.state.value})" if post else "",
        )
    console.print(table)
    count = len(plan.rows)
    if dry_run:
        outcome = f"checked {count} rows of {plan.file}: nothing saved (--dry-run)"
    elif submit:
        outcome = f"submitted {count} posts from {plan.file} for approval"
    else:
        outcome = f"saved {count} posts from {plan.file} as drafts"
    console.print(outcome, highlight=False, markup=False, soft_wrap=True)
    if plan.unused_images:
        unused = "images no row uses: " + ", ".join(plan.unused_images)
        console.print(unused, highlight=False, markup=False, soft_wrap=True)


def _as_json(plan: ImportPlan, saved: list[Post], *, submit: bool, dry_run: bool) -> dict[str, Any]:
    return {
        "file": plan.file,
        "sha256": plan.sha256,
        "dry_run": dry_run,
        "saved": bool(saved),
        "submitted": bool(saved) and submit,
        "rows": [
            _row_json(row, post) for row, post in zip(plan.rows, _posts(plan, saved), strict=True)
        ],
        "unused_images": plan.unused_images,
    }


def _row_json(row: RowResult, post: Post | None) -> dict[str, Any]:
    return {
        "line": row.line,
        "account": row.account,
        "scheduled_at": _iso(row.scheduled_at),
        "scheduled_local": row.scheduled_local,
        "timezone": row.timezone,
        "parts": row.parts,
        "images": [asdict(i) for i in row.images],
        "template": row.template,
        "campaign": row.campaign,
        "findings": [asdict(f) for f in row.findings],
        "post_id": post.id if post else None,
        "state": post.state.value if post else None,
    }


def _posts(plan: ImportPlan, saved: list[Post]) -> list[Post | None]:
    """The post saved from each row, or None for every row when nothing was saved."""
    return list(saved) if saved else [None] * len(plan.rows)


def _iso(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant else None
