"""Saving what a compose form holds, as one unit of work.

A person writing a post in the browser presses one button, but that may be several steps of
the workflow: draft and submit; or new words, a new time and a resubmission. They run here,
in the caller's one transaction, so a refusal at any step (a blocking finding at submit, a
stale edit, a time in the past) leaves nothing behind: the draft is never half saved. Each
step is the same service the CLI calls (`posts.create_draft`, `edit`, `schedule`,
`submit`), so every rule, right and audit entry is theirs.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from approvals import posts
from approvals.config import Action
from approvals.db import MAX_ID
from approvals.errors import IllegalTransition, NotFound
from approvals.map_store import current_map
from approvals.models import Person, Post, PostState, RevisionPart
from approvals.posts import PartInput
from approvals.workflow import EDITABLE


@dataclass(frozen=True)
class Reschedule:
    """A new publishing time for an existing post; `when=None` clears it."""

    when: datetime | None


@dataclass(frozen=True)
class Saved:
    """What a save did, so the page can say it in words."""

    post: Post
    edited: bool = False
    rescheduled: bool = False
    submitted: bool = False

    @property
    def changed(self) -> bool:
        return self.edited or self.rescheduled or self.submitted


def find_post(session: Session, post_id: int) -> Post:
    """The post, or `NotFound`; an id no row can have (ids are 32 bits on PostgreSQL) is
    not looked up at all."""
    post = session.get(Post, post_id) if 1 <= post_id <= MAX_ID else None
    if post is None:
        raise NotFound(f"post {post_id} does not exist")
    return post


def open_for_edit(session: Session, *, actor: Person, post_id: int) -> Post:
    """The post as someone about to change its words may open it: the map lets them draft on
    its account and its state still allows an edit (the refusals `posts.edit` gives)."""
    post = find_post(session, post_id)
    account = posts.account_of(session, post)
    current_map(session).require(actor.email, Action.DRAFT, account.handle)
    if post.state not in EDITABLE:
        raise IllegalTransition(f"post {post.id} is {post.state.value}; it can no longer be edited")
    return post


def save_new(
    session: Session,
    *,
    actor: Person,
    account_handle: str,
    parts: list[PartInput],
    scheduled_at: datetime | None,
    submit: bool,
    now: datetime,
) -> Saved:
    """A new draft, submitted for approval at once when `submit` (as `draft --submit`)."""
    post = posts.create_draft(
        session,
        actor=actor,
        account_handle=account_handle,
        parts=parts,
        now=now,
        scheduled_at=scheduled_at,
    )
    assert post.id is not None
    if submit:
        posts.submit(session, actor=actor, post_id=post.id, now=now)
    return Saved(post, edited=True, rescheduled=scheduled_at is not None, submitted=submit)


def save_changes(
    session: Session,
    *,
    actor: Person,
    post_id: int,
    parts: list[PartInput],
    expected_hash: str,
    reschedule: Reschedule | None,
    submit: bool,
    now: datetime,
) -> Saved:
    """New words (a new revision, only if they differ from the current ones), a new time, and
    a submission when asked. `expected_hash` is the revision the person opened: if someone
    else changed the words since, `posts.edit` refuses rather than overwrite them.

    An edit of a post in review sends it back to review by itself (every approval void), so
    `submit` only submits what is a draft after the edit."""
    post = open_for_edit(session, actor=actor, post_id=post_id)
    edited = rescheduled = submitted = False
    current = posts.revision_parts(session, posts.current_revision(session, post))
    if _words(parts) != _stored_words(current):
        post = posts.edit(
            session,
            actor=actor,
            post_id=post_id,
            parts=parts,
            now=now,
            expected_hash=expected_hash,
        )
        edited = True
    if reschedule is not None and reschedule.when != post.scheduled_at:
        post = posts.schedule(session, actor=actor, post_id=post_id, when=reschedule.when, now=now)
        rescheduled = True
    if submit and not (edited and post.state == PostState.SUBMITTED):
        post = posts.submit(session, actor=actor, post_id=post_id, now=now)
        submitted = True
    return Saved(post, edited=edited, rescheduled=rescheduled, submitted=submitted)


Words = list[tuple[str, list[tuple[str, str | None]]]]


def _words(parts: list[PartInput]) -> Words:
    return [(p.text, [(m.sha256, m.alt_text) for m in p.media]) for p in parts]


def _stored_words(parts: list[RevisionPart]) -> Words:
    return [(p.text, [(str(m["sha256"]), m.get("alt_text")) for m in p.media]) for p in parts]
