"""Recording what happened when a claimed post met X.

Each function runs in its own short transaction after a call to X, re-reads the post under
its row lock, and writes the audit entry. Part ids are recorded one by one as they come
back, so after a crash the database knows exactly which parts of a thread are already out.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from approvals import audit
from approvals.audit import SYSTEM
from approvals.errors import Refused
from approvals.models import Post, PostState, RevisionPart
from approvals.workflow import lock_post, move


class LostClaim(Refused):
    """The worker's lease ran out and someone else took the post over; it must stand down."""


def _release(post: Post) -> None:
    """The attempt is settled: nobody holds the post and its outcome is known."""
    post.claimed_by = post.lease_until = None
    post.outcome_unknown = False


def _claimed(session: Session, post_id: int, worker: str) -> Post:
    post = lock_post(session, post_id)
    if post.state != PostState.PUBLISHING or post.claimed_by != worker:
        raise LostClaim(f"post {post_id} is no longer claimed by {worker}")
    return post


def record_part(
    session: Session,
    *,
    post_id: int,
    part_id: int,
    x_post_id: str,
    worker: str,
    now: datetime,
    lease: timedelta,
) -> None:
    """A part is on X: keep its id whatever else has happened, and extend the lease."""
    post = lock_post(session, post_id)
    part = session.get(RevisionPart, part_id)
    assert part is not None
    part.x_post_id = x_post_id
    session.add(part)
    if post.state == PostState.PUBLISHING and post.claimed_by == worker:
        post.lease_until = now + lease
        session.add(post)


def mark_published(
    session: Session, *, post_id: int, worker: str, now: datetime, sandbox: bool, via: str
) -> Post:
    post = _claimed(session, post_id, worker)
    post.published_at, post.published_revision_no = now, post.revision_no
    post.sandbox = sandbox
    _release(post)
    details = {"worker": worker, "via": via, "sandbox": sandbox, "attempts": post.attempts}
    move(session, post, PostState.PUBLISHED, actor=SYSTEM, now=now, details=details)
    return post


def mark_retry(
    session: Session, *, post_id: int, worker: str, now: datetime, retry_at: datetime, error: str
) -> Post:
    """X said no for now (rate limit) or the outcome was settled as 'not posted': try later."""
    post = _claimed(session, post_id, worker)
    post.failure_retryable, post.next_attempt_at = True, retry_at
    _release(post)
    move(
        session,
        post,
        PostState.FAILED,
        actor=SYSTEM,
        now=now,
        reason=f"{error}; will retry at {retry_at.isoformat(timespec='seconds')}",
        details={"retryable": True, "retry_at": retry_at.isoformat(), "attempt": post.attempts},
    )
    return post


def mark_failed(session: Session, *, post_id: int, worker: str, now: datetime, error: str) -> Post:
    """For good: the author must change something (or X refused the account)."""
    post = _claimed(session, post_id, worker)
    post.failure_retryable, post.next_attempt_at = False, None
    _release(post)
    details = {"retryable": False, "attempt": post.attempts}
    move(session, post, PostState.FAILED, actor=SYSTEM, now=now, reason=error, details=details)
    return post


def mark_unknown(
    session: Session,
    *,
    post_id: int,
    worker: str,
    now: datetime,
    settle_after: timedelta,
    error: str,
) -> None:
    """X's answer never came: leave the post in `publishing` to be reconciled after a pause.

    Any worker may do the reconciling once the (shortened) lease runs out, so the post is
    settled even if this worker dies too.
    """
    post = _claimed(session, post_id, worker)
    post.outcome_unknown = True
    post.lease_until = now + settle_after
    session.add(post)
    audit.record(
        session,
        actor=SYSTEM,
        action="post.outcome_unknown",
        subject=f"post:{post_id}",
        at=now,
        details={"worker": worker, "error": error, "attempt": post.attempts},
    )


@dataclass(frozen=True)
class Reconciled:
    found: dict[int, str]  # part position -> id on X
    searched_since: datetime


def record_reconcile(
    session: Session,
    *,
    post_id: int,
    worker: str,
    now: datetime,
    result: Reconciled,
    previous: str | None,
) -> None:
    """Write down what the timeline showed before anything else is sent."""
    _claimed(session, post_id, worker)
    audit.record(
        session,
        actor=SYSTEM,
        action="post.reconciled",
        subject=f"post:{post_id}",
        at=now,
        details={
            "worker": worker,
            "previous_worker": previous,
            "found_parts": {str(k): v for k, v in sorted(result.found.items())},
            "searched_since": result.searched_since.isoformat(),
        },
    )
