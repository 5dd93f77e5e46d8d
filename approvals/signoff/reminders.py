"""Approval reminders: a post due soon and short of approvals asks its approvers, once.

Every worker runs the reminder job, so a reminder is claimed the way a post is claimed for
publishing: each post in its own short transaction, under its row lock taken with SKIP
LOCKED, and only if nobody has reminded it yet. The lock order is the one everywhere (post
row, then the audit head, see `approvals.db`): holding the audit head while locking post
after post is what made reminders and approvals deadlock.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from approvals.config import Action
from approvals.db import session_scope
from approvals.map_store import current_map
from approvals.models import Person, Post, PostState
from approvals.posts import account_of, authors_of
from approvals.records import audit
from approvals.records.audit import SYSTEM
from approvals.signoff.review import quorum

REMIND_WITHIN = timedelta(hours=1)


@dataclass(frozen=True)
class Reminder:
    post_id: int
    account: str
    approvers: list[str]  # who may still approve, authors and those who did excluded
    missing: int
    due_at: datetime


def _due(now: datetime, within: timedelta) -> ColumnElement[bool]:
    """Due within `within`, or fallen due within the last `within` while short: a post sent
    back to review at its time (its approvals expired) asks its approvers again."""
    return and_(
        col(Post.state) == PostState.SUBMITTED,
        col(Post.scheduled_at) <= now + within,
        col(Post.scheduled_at) > now - within,
        col(Post.reminded_at).is_(None),
    )


def posts_to_remind(
    session: Session, *, now: datetime, within: timedelta = REMIND_WITHIN
) -> list[int]:
    """Ids of posts due within `within` that lack approvals and were not reminded yet."""
    query = select(Post.id).where(_due(now, within)).order_by(col(Post.scheduled_at))
    return [i for i in session.exec(query).all() if i is not None]


def claim_reminder(
    session: Session, *, post_id: int, now: datetime, within: timedelta = REMIND_WITHIN
) -> Reminder | None:
    """Mark one post reminded and say whom to ask; None if another worker has it or did it.

    The caller commits, then sends: a reminder is sent at most once.
    """
    query = (
        select(Post)
        .where(Post.id == post_id, _due(now, within))
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    post = session.exec(query).first()
    if post is None:
        return None
    assert post.id is not None and post.scheduled_at is not None
    pmap = current_map(session)
    account = account_of(session, post)
    status = quorum(session, post, pmap, now=now)
    authors = {p.email for p in people_by_id(session, authors_of(session, post))}
    # Those who may fill a stage still open; with no stages (no map), anyone approving.
    open_stages = [s for s in status.stages if not s.met]
    eligible = (
        {e for s in open_stages for e in s.eligible}
        if status.stages
        else set(pmap.holders(Action.APPROVE, account.handle))
    )
    asked = [
        email
        for email in pmap.holders(Action.APPROVE, account.handle)
        if email in eligible and email not in authors and email not in status.approvers
    ]
    missing = sum(s.missing for s in open_stages) if status.stages else status.required
    post.reminded_at = now
    session.add(post)
    audit.record(
        session,
        actor=SYSTEM,
        action="post.reminder",
        subject=f"post:{post.id}",
        at=now,
        details={"asked": asked, "missing": missing},
    )
    return Reminder(post.id, account.handle, asked, missing, post.scheduled_at)


def due_reminders(
    engine: Engine, *, now: datetime, within: timedelta = REMIND_WITHIN
) -> list[Reminder]:
    """Claim every reminder now due, one post per transaction."""
    with session_scope(engine, read_only=True) as session:
        candidates = posts_to_remind(session, now=now, within=within)
    reminders: list[Reminder] = []
    for post_id in candidates:
        with session_scope(engine) as session:
            reminder = claim_reminder(session, post_id=post_id, now=now, within=within)
        if reminder is not None:
            reminders.append(reminder)
    return reminders


def people_by_id(session: Session, ids: set[int]) -> list[Person]:
    return list(session.exec(select(Person).where(col(Person.id).in_(ids))).all())
