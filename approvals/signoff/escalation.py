"""Escalation: a post due soon and still short of approvals goes to the deputies, then to
the duty officers.

Each account may set `escalate_within_minutes` (the deputies, holders of `deputy_role`, are
asked, and from then on may stand in for any "any N of" stage of that post) and
`duty_within_minutes` (the duty officers, holders of `duty_role` or, without one, everyone
who may pause the account, are told). Each step is taken once per post, audited as
`post.escalated`, and handed back for notifying; the audit entry is what the Slack outbox
reads. Like reminders, each post is claimed in its own short transaction under its row lock
(SKIP LOCKED), so several workers never escalate a post twice.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from approvals.config import AccountConfig, Action
from approvals.db import session_scope
from approvals.map_store import current_map
from approvals.models import Account, Post, PostState
from approvals.permissions import PermissionMap
from approvals.posts import account_of, authors_of
from approvals.records import audit
from approvals.records.audit import SYSTEM
from approvals.signoff.reminders import people_by_id
from approvals.signoff.review import quorum

DEPUTIES, DUTY = 1, 2
STEP_NAMES = {DEPUTIES: "deputies", DUTY: "duty officer"}


@dataclass(frozen=True)
class Escalation:
    post_id: int
    account: str
    level: int  # 1: deputies, 2: duty officers
    to: str  # "deputies" | "duty officer"
    people: list[str]
    missing: int
    due_at: datetime

    @property
    def message(self) -> str:
        return (
            f"Escalated to the {self.to}: {self.account} post {self.post_id} is due at "
            f"{self.due_at:%H:%M} UTC and still needs {self.missing} approval(s)"
        )


def level_due(account: AccountConfig, due_at: datetime, now: datetime) -> int:
    """The escalation a post due at `due_at` has reached at `now` (0: none yet).

    A lead time is inclusive: a post due exactly `escalate_within_minutes` from now is
    escalated; one a second later is not yet.
    """
    left = due_at - now
    if left <= timedelta(0):
        return 0  # its time has come: the dispatcher decides now, not escalation
    if account.duty_within_minutes is not None and left <= timedelta(
        minutes=account.duty_within_minutes
    ):
        return DUTY
    if account.escalate_within_minutes is not None and left <= timedelta(
        minutes=account.escalate_within_minutes
    ):
        return DEPUTIES
    return 0


def posts_to_escalate(session: Session, *, now: datetime) -> list[int]:
    """Posts in review, due in the future, with an escalation step due that they have not
    had: read only, so a beat with nothing to do opens no write transaction."""
    query = (
        select(Post, Account)
        .join(Account, col(Account.id) == col(Post.account_id))
        .where(
            col(Post.state) == PostState.SUBMITTED,
            col(Post.scheduled_at) > now,
            col(Post.escalation_level) < DUTY,
        )
        .order_by(col(Post.scheduled_at))
    )
    config = current_map(session).config
    due: list[int] = []
    for post, account in session.exec(query).all():
        declared = config.account(account.handle)
        if declared is None or post.id is None or post.scheduled_at is None:
            continue
        if level_due(declared, post.scheduled_at, now) > post.escalation_level:
            due.append(post.id)
    return due


def claim_escalation(session: Session, *, post_id: int, now: datetime) -> list[Escalation]:
    """Take the escalation steps now due for one post; [] if none (or another worker has it).

    The caller commits, then notifies.
    """
    query = (
        select(Post)
        .where(col(Post.id) == post_id, col(Post.state) == PostState.SUBMITTED)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    post = session.exec(query).first()
    if post is None or post.scheduled_at is None:
        return []
    pmap = current_map(session)
    account = account_of(session, post)
    declared = pmap.config.account(account.handle)
    if declared is None:
        return []
    target = level_due(declared, post.scheduled_at, now)
    if target <= post.escalation_level:
        return []
    status = quorum(session, post, pmap, now=now)
    if status.met:
        return []
    authors = {p.email for p in people_by_id(session, authors_of(session, post))}
    steps: list[Escalation] = []
    for level in range(post.escalation_level + 1, target + 1):
        people = [
            e
            for e in _recipients(pmap, declared, level)
            if e not in authors and e not in status.approvers
        ]
        missing = sum(s.missing for s in status.stages if not s.met)
        assert post.id is not None
        step = Escalation(
            post.id, account.handle, level, STEP_NAMES[level], people, missing, post.scheduled_at
        )
        audit.record(
            session,
            actor=SYSTEM,
            action="post.escalated",
            subject=f"post:{post.id}",
            at=now,
            details={
                "level": level,
                "to": step.to,
                "asked": people,
                "missing": missing,
                "due_at": post.scheduled_at.isoformat(),
            },
        )
        steps.append(step)
    post.escalation_level = target
    session.add(post)
    return steps


def _recipients(pmap: PermissionMap, account: AccountConfig, level: int) -> list[str]:
    """Deputies who may approve on the account; duty officers by role, or the pause right."""
    if level == DEPUTIES:
        if account.deputy_role is None:
            return []
        return [
            p.email
            for p in pmap.config.people
            if account.deputy_role in p.roles and pmap.can(p.email, Action.APPROVE, account.handle)
        ]
    if account.duty_role is not None:
        return [p.email for p in pmap.config.people if account.duty_role in p.roles]
    return pmap.holders(Action.PAUSE, account.handle)


def due_escalations(engine: Engine, *, now: datetime) -> list[Escalation]:
    """Take every escalation step now due, one post per transaction."""
    with session_scope(engine, read_only=True) as session:
        candidates = posts_to_escalate(session, now=now)
    steps: list[Escalation] = []
    for post_id in candidates:
        with session_scope(engine) as session:
            steps.extend(claim_escalation(session, post_id=post_id, now=now))
    return steps
