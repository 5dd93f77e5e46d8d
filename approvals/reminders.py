"""Approval reminders: a post due soon and short of approvals asks its approvers, once."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from approvals import audit
from approvals.audit import SYSTEM
from approvals.config import Action
from approvals.map_store import current_map
from approvals.models import Person, Post, PostState
from approvals.posts import account_of, authors_of
from approvals.review import quorum

REMIND_WITHIN = timedelta(hours=1)


@dataclass(frozen=True)
class Reminder:
    post_id: int
    account: str
    approvers: list[str]  # who may still approve, authors and those who did excluded
    missing: int
    due_at: datetime


def due_reminders(
    session: Session, *, now: datetime, within: timedelta = REMIND_WITHIN
) -> list[Reminder]:
    """Find posts due within `within` that lack approvals, and mark them reminded."""
    posts = session.exec(
        select(Post).where(
            col(Post.state) == PostState.SUBMITTED,
            col(Post.scheduled_at) <= now + within,
            col(Post.scheduled_at) > now,
            col(Post.reminded_at).is_(None),
        )
    ).all()
    pmap = current_map(session)
    reminders: list[Reminder] = []
    for post in posts:
        assert post.id is not None and post.scheduled_at is not None
        account = account_of(session, post)
        status = quorum(session, post, pmap)
        authors = {p.email for p in _people(session, authors_of(session, post))}
        asked = [
            email
            for email in pmap.holders(Action.APPROVE, account.handle)
            if email not in authors and email not in status.approvers
        ]
        missing = status.required - len(status.approvers)
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
        reminders.append(Reminder(post.id, account.handle, asked, missing, post.scheduled_at))
    return reminders


def _people(session: Session, ids: set[int]) -> list[Person]:
    return list(session.exec(select(Person).where(col(Person.id).in_(ids))).all())
