"""How sign-off runs: time from submission to approval, rejections and why, policy findings
by rule, late and failed posts, pauses, takedowns, and who has read the current guidance.

The times come from one query: each approval with the time its post was last submitted
before it (a correlated subquery on the audit log, where `post.submitted` is recorded).
Percentiles are taken in Python over those rows, as SQLite has no percentile function:
the median is the middle value (the mean of the two middle ones for an even count); the
90th percentile is the nearest rank, the value with 90% of the times at or below it.
"""

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import String, cast, func
from sqlmodel import Session, col, select

from approvals.analytics.figures import Filters
from approvals.analytics.models import RevisionFinding
from approvals.models import (
    Account,
    Approval,
    AuditEntry,
    Decision,
    GuidanceRead,
    GuidanceVersion,
    Person,
    Post,
    PostState,
)

LATE_AFTER = timedelta(minutes=5)  # published this long after its time: late


@dataclass(frozen=True)
class Times:
    """Hours from submission to approval."""

    count: int
    median: float | None
    p90: float | None


@dataclass
class Governance:
    approval: Times
    by_approver: list[tuple[str, Times]]
    by_account: list[tuple[str, Times]]
    rejections: list[tuple[str, int]]
    findings: list[tuple[str, str, int]]  # rule, severity, count
    late: int
    failed: int
    pauses: int
    takedowns: int
    guidance_version: int | None
    guidance_read: int
    people: int


def times(hours: list[float]) -> Times:
    if not hours:
        return Times(0, None, None)
    ordered = sorted(hours)
    p90 = ordered[math.ceil(0.9 * len(ordered)) - 1]
    return Times(len(ordered), statistics.median(ordered), p90)


def governance(session: Session, f: Filters) -> Governance:
    in_range = (col(Approval.created_at) >= f.since, col(Approval.created_at) < f.until)
    submitted = (
        select(func.max(AuditEntry.at))
        .where(
            AuditEntry.action == "post.submitted",
            col(AuditEntry.subject) == "post:" + cast(Approval.post_id, String),
            col(AuditEntry.at) <= Approval.created_at,
        )
        .scalar_subquery()
    )
    decided = session.exec(
        _scoped(
            select(Person.email, Account.handle, Approval.created_at, submitted)
            .join(Person, col(Person.id) == Approval.person_id)
            .join(Post, col(Post.id) == Approval.post_id)
            .join(Account, col(Account.id) == Post.account_id)
            .where(Approval.decision == Decision.APPROVE, *in_range),
            f,
        )
    ).all()
    per_approver: dict[str, list[float]] = defaultdict(list)
    per_account: dict[str, list[float]] = defaultdict(list)
    every: list[float] = []
    for email, handle, at, since in decided:
        if since is None:
            continue
        since = since.replace(tzinfo=at.tzinfo) if since.tzinfo is None else since
        hours = (at - since).total_seconds() / 3600
        every.append(hours)
        per_approver[email].append(hours)
        per_account[handle].append(hours)
    rejections = session.exec(
        _scoped(
            select(Approval.reason, func.count())
            .join(Post, col(Post.id) == Approval.post_id)
            .where(Approval.decision == Decision.REJECT, *in_range)
            .group_by(col(Approval.reason))
            .order_by(func.count().desc(), col(Approval.reason)),
            f,
        )
    ).all()
    findings = session.exec(
        _scoped(
            select(RevisionFinding.rule, RevisionFinding.severity, func.count())
            .join(Post, col(Post.id) == RevisionFinding.post_id)
            .where(
                col(RevisionFinding.found_at) >= f.since, col(RevisionFinding.found_at) < f.until
            )
            .group_by(col(RevisionFinding.rule), col(RevisionFinding.severity))
            .order_by(func.count().desc(), col(RevisionFinding.rule)),
            f,
        )
    ).all()
    return Governance(
        approval=times(every),
        by_approver=sorted((k, times(v)) for k, v in per_approver.items()),
        by_account=sorted((k, times(v)) for k, v in per_account.items()),
        rejections=[(r or "(no reason given)", int(n)) for r, n in rejections],
        findings=[(str(r), str(s), int(n)) for r, s, n in findings],
        late=_late(session, f),
        failed=_count(
            session,
            _scoped(
                select(func.count())
                .select_from(Post)
                .where(
                    Post.state == PostState.FAILED,
                    col(Post.updated_at) >= f.since,
                    col(Post.updated_at) < f.until,
                ),
                f,
            ),
        ),
        pauses=_audited(session, f, "publishing.pause"),
        takedowns=_audited(session, f, "post.taken_down"),
        **_guidance(session),
    )


def _scoped(query: Any, f: Filters) -> Any:
    query = query.where(col(Post.account_id).in_(f.account_ids))
    if f.campaign is not None:
        query = query.where(col(Post.campaign) == f.campaign)
    return query


def _count(session: Session, query: Any) -> int:
    return int(session.exec(query).one())


def _late(session: Session, f: Filters) -> int:
    rows = session.exec(
        _scoped(
            select(Post.scheduled_at, Post.published_at).where(
                col(Post.published_at) >= f.since,
                col(Post.published_at) < f.until,
                col(Post.scheduled_at).is_not(None),
                col(Post.published_at) > Post.scheduled_at,
            ),
            f,
        )
    ).all()  # the ones published after their time, few; the 5 minutes are checked here
    return sum(1 for due, done in rows if due is not None and done - due > LATE_AFTER)


def _audited(session: Session, f: Filters, action: str) -> int:
    """Entries of `action` in the range. Pauses of every account at once count everywhere."""
    query = select(func.count()).where(
        AuditEntry.action == action, col(AuditEntry.at) >= f.since, col(AuditEntry.at) < f.until
    )
    return _count(session, query)


def _guidance(session: Session) -> dict[str, Any]:
    version = session.exec(
        select(GuidanceVersion.id).order_by(col(GuidanceVersion.id).desc()).limit(1)
    ).first()
    people = _count(session, select(func.count()).select_from(Person).where(Person.active == True))  # noqa: E712
    read = 0
    if version is not None:
        read = _count(session, select(func.count()).where(GuidanceRead.version_id == version))
    return {"guidance_version": version, "guidance_read": read, "people": people}
