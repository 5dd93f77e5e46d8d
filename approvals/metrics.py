"""The figures `/metrics` reports, read from the database at each scrape.

Every figure comes from the database, not from counters kept in one process: web replicas
and workers are separate processes, any of them may restart, and the database (the posts and
the append-only audit log) is what they share. So every replica answers the same, counters
never go back after a restart, and a scrape of any one replica is enough.

Counters taken from the audit log (X errors, rate-limit waits) only grow, because entries
are never removed. They read markers the dispatcher writes into the entries' details
(`x_error`: X answered with an error; `rate_limited`: the wait was X's rate limit).
Histograms (publish lateness, approval turnaround) are over every post published and every
approval given, so they only grow too.

The outbox depth counts the Slack notices still pending: a depth that grows says the sender
cannot reach Slack (or no worker runs).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, cast, func, literal, select
from sqlmodel import Session, col

from approvals.messaging.notices import PENDING
from approvals.models import Approval, AuditEntry, Decision, Notice, Post, PostState
from approvals.records.audit import read_head

# Upper bounds, in seconds, of the histogram buckets (Prometheus adds +Inf).
LATENESS_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0)
TURNAROUND_BUCKETS = (300.0, 900.0, 3600.0, 4 * 3600.0, 24 * 3600.0, 3 * 24 * 3600.0)
# Markers in audit details, as canonical JSON writes them (approvals/delivery/outcomes.py).
RATE_LIMITED = '%"rate_limited":true%'
RETRYABLE = '%"retryable":true%'
FOR_GOOD = '%"retryable":false%'
X_ERROR = '%"x_error":true%'
WAITING = (PostState.APPROVED, PostState.QUEUED)


@dataclass(frozen=True)
class Histogram:
    """Cumulative counts per upper bound (seconds), the count and the sum of all values."""

    buckets: tuple[tuple[float, int], ...]
    count: int
    total: float

    @classmethod
    def of(cls, values: Iterable[float], bounds: Sequence[float]) -> "Histogram":
        seen = sorted(values)
        counts, i = [], 0
        for bound in bounds:
            while i < len(seen) and seen[i] <= bound:
                i += 1
            counts.append((bound, i))
        return cls(tuple(counts), len(seen), float(sum(seen)))


@dataclass(frozen=True)
class Figures:
    posts_by_state: dict[str, int]
    publish_lateness: Histogram
    overdue_seconds: float  # the oldest approved post past its time, 0 if none
    x_errors: dict[str, int]  # by outcome: retry, failed, unknown
    rate_limit_waits: int
    approval_turnaround: Histogram
    audit_head_seq: int
    outbox_depth: int


def read_figures(session: Session, *, now: datetime) -> Figures:
    """Everything `/metrics` shows, in one read-only pass over the database."""
    head = read_head(session)
    return Figures(
        posts_by_state=_posts_by_state(session),
        publish_lateness=Histogram.of(_lateness(session), LATENESS_BUCKETS),
        overdue_seconds=_overdue(session, now),
        x_errors=_x_errors(session),
        rate_limit_waits=_count_entries(session, "post.failed", like=(RATE_LIMITED,)),
        approval_turnaround=Histogram.of(_turnaround(session), TURNAROUND_BUCKETS),
        audit_head_seq=head.seq if head is not None else 0,
        outbox_depth=outbox_depth(session),
    )


def _posts_by_state(session: Session) -> dict[str, int]:
    counts = {state.value: 0 for state in PostState}
    query = select(col(Post.state), func.count()).group_by(col(Post.state))
    for state, n in session.execute(query):
        counts[PostState(state).value] = int(n)
    return counts


def _lateness(session: Session) -> list[float]:
    """Seconds from each published post's time to its publication (0 when early)."""
    query = select(col(Post.scheduled_at), col(Post.published_at)).where(
        col(Post.published_at).is_not(None), col(Post.scheduled_at).is_not(None)
    )
    return [max(0.0, (done - due).total_seconds()) for due, done in session.execute(query)]


def _overdue(session: Session, now: datetime) -> float:
    query = select(func.min(col(Post.scheduled_at))).where(
        col(Post.state).in_(WAITING), col(Post.scheduled_at) <= now
    )
    oldest = session.scalars(query).one()
    if oldest is None:
        return 0.0
    # The aggregate bypasses the column's type, so SQLite hands it back naive or as text.
    when = oldest if isinstance(oldest, datetime) else datetime.fromisoformat(str(oldest))
    return max(0.0, (now.replace(tzinfo=None) - when.replace(tzinfo=None)).total_seconds())


def _x_errors(session: Session) -> dict[str, int]:
    """Failed attempts X answered with an error, and calls whose outcome was unknown.

    Retries that X did not cause (a reconcile that found nothing, a stray being removed) and
    failures decided before any call (no credentials, a policy block) are left out.
    """
    return {
        "retry": _count_entries(session, "post.failed", like=(RETRYABLE, X_ERROR)),
        "failed": _count_entries(session, "post.failed", like=(FOR_GOOD, X_ERROR)),
        "unknown": _count_entries(session, "post.outcome_unknown"),
    }


def _count_entries(session: Session, action: str, *, like: tuple[str, ...] = ()) -> int:
    query = select(func.count()).where(col(AuditEntry.action) == action)
    for pattern in like:
        query = query.where(col(AuditEntry.details).like(pattern))
    return int(session.scalars(query).one())


def _turnaround(session: Session) -> list[float]:
    """Seconds from a post's latest submission to each approval of it."""
    submitted = (
        select(func.max(col(AuditEntry.at)))
        .where(
            col(AuditEntry.action) == "post.submitted",
            col(AuditEntry.subject) == literal("post:") + cast(col(Approval.post_id), String),
            col(AuditEntry.at) <= col(Approval.created_at),
        )
        .scalar_subquery()
    )
    query = select(col(Approval.created_at), submitted).where(
        col(Approval.decision) == Decision.APPROVE
    )
    out = []
    for approved, asked in session.execute(query):
        if asked is None:
            continue
        asked_at = asked if isinstance(asked, datetime) else datetime.fromisoformat(str(asked))
        seconds = (approved.replace(tzinfo=None) - asked_at.replace(tzinfo=None)).total_seconds()
        out.append(max(0.0, seconds))
    return out


def outbox_depth(session: Session) -> int:
    """Notices in the outbox still waiting to be sent (approvals/messaging/notices.py, the
    sender)."""
    query = select(func.count()).where(col(Notice.state) == PENDING)
    return int(session.scalars(query).one())
