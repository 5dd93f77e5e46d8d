"""Recording what happened when a claimed post met X.

Each function runs in its own short transaction after a call to X, re-reads the post under
its row lock, and writes the audit entry. Part ids are recorded one by one as they come
back, so after a crash the database knows exactly which parts of a thread are already out.

Every function is fenced: it acts only for the claim whose token the post still carries.
A worker whose lease ran out while it was frozen, and whose post another worker took over,
gets `LostClaim` and records nothing; an id of record, once written, never changes.
Copies that reach X all the same are written down as strays (`approvals.delivery.strays`).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from approvals.errors import Refused
from approvals.models import Post, PostState, RevisionPart, StrayPost
from approvals.records import audit
from approvals.records.audit import SYSTEM
from approvals.workflow import lock_post, move


class LostClaim(Refused):
    """The worker's claim was taken over (its lease ran out); it must send and record nothing."""


class IdTaken(Refused):
    """An id X gave is already another part's, or a known stray: it cannot be this part's."""


def _release(post: Post) -> None:
    """The attempt is settled: nobody holds the post and its outcome is known."""
    post.claimed_by = post.lease_until = None
    post.outcome_unknown = False


def _claimed(session: Session, post_id: int, token: int) -> Post:
    post = lock_post(session, post_id)
    if post.state != PostState.PUBLISHING or post.claim_token != token:
        raise LostClaim(f"post {post_id}: claim {token} was taken over; standing down")
    return post


def renew(session: Session, *, post_id: int, token: int, now: datetime, lease: timedelta) -> None:
    """Extend a healthy worker's lease; raises `LostClaim` if the post was taken over."""
    post = _claimed(session, post_id, token)
    post.lease_until = max(post.lease_until or now, now + lease)
    session.add(post)


def taken_ids(session: Session, x_post_ids: list[str]) -> set[str]:
    """Which of these ids on X a reconcile may not adopt: owned by a part, or known strays."""
    if not x_post_ids:
        return set()
    owned = session.exec(
        select(RevisionPart.x_post_id).where(col(RevisionPart.x_post_id).in_(x_post_ids))
    ).all()
    strays = session.exec(
        select(StrayPost.x_post_id).where(col(StrayPost.x_post_id).in_(x_post_ids))
    ).all()
    return {i for i in owned if i} | set(strays)


def record_part(
    session: Session,
    *,
    post_id: int,
    part_id: int,
    x_post_id: str,
    token: int,
    now: datetime,
    lease: timedelta,
) -> None:
    """A part is on X: keep its id as the part's id of record, and extend the lease."""
    post = _claimed(session, post_id, token)
    part = session.get(RevisionPart, part_id)
    assert part is not None
    if part.x_post_id == x_post_id:
        return
    if part.x_post_id is not None:
        raise IdTaken(f"post {post_id} part {part.position} is already {part.x_post_id} on X")
    if x_post_id in taken_ids(session, [x_post_id]):
        raise IdTaken(f"X post {x_post_id} already belongs to another post or is a stray")
    part.x_post_id = x_post_id
    session.add(part)
    post.lease_until = now + lease
    session.add(post)


def mark_published(
    session: Session,
    *,
    post_id: int,
    token: int,
    worker: str,
    now: datetime,
    sandbox: bool,
    via: str,
) -> Post:
    post = _claimed(session, post_id, token)
    post.published_at, post.published_revision_no = now, post.revision_no
    post.sandbox = sandbox
    post.failure_retryable = post.next_attempt_at = None
    _release(post)
    details = {"worker": worker, "via": via, "sandbox": sandbox, "errors": post.attempts}
    move(session, post, PostState.PUBLISHED, actor=SYSTEM, now=now, details=details)
    return post


def mark_retry(
    session: Session,
    *,
    post_id: int,
    token: int,
    now: datetime,
    retry_at: datetime,
    error: str,
    counts: bool,
    rate_limited: bool = False,
) -> Post:
    """X said no for now (rate limit) or the outcome was settled as 'not posted': try later.

    `counts` says whether this was a failed attempt (X answered with an error) rather than,
    say, a reconcile that found nothing after a lost connection. `rate_limited` marks the
    entry as a wait for X's rate limit, which /metrics counts (approvals/metrics.py).
    """
    post = _claimed(session, post_id, token)
    post.attempts += 1 if counts else 0
    post.failure_retryable, post.next_attempt_at = True, retry_at
    _release(post)
    move(
        session,
        post,
        PostState.FAILED,
        actor=SYSTEM,
        now=now,
        reason=f"{error}; will retry at {retry_at.isoformat(timespec='seconds')}",
        details={
            "retryable": True,
            "retry_at": retry_at.isoformat(),
            "errors": post.attempts,
            "x_error": counts,  # X answered with an error (what /metrics counts)
            **({"rate_limited": True} if rate_limited else {}),
        },
    )
    return post


def mark_failed(
    session: Session, *, post_id: int, token: int, now: datetime, error: str, counts: bool = True
) -> Post:
    """For good: the author must change something (or X refused the account)."""
    post = _claimed(session, post_id, token)
    post.attempts += 1 if counts else 0
    post.failure_retryable, post.next_attempt_at = False, None
    _release(post)
    details = {"retryable": False, "errors": post.attempts, "x_error": counts}
    move(session, post, PostState.FAILED, actor=SYSTEM, now=now, reason=error, details=details)
    return post


def mark_unknown(
    session: Session,
    *,
    post_id: int,
    token: int,
    worker: str,
    now: datetime,
    settle_after: timedelta,
    error: str,
    counts: bool,
) -> None:
    """The outcome is uncertain: leave the post in `publishing` to be reconciled later.

    The claim is let go at once but for a short lease (`settle_after`), after which any
    worker reconciles against the timeline before anything is sent again, so the post is
    settled even if this worker dies too. Also used for errors pressgate cannot classify,
    with a growing `settle_after`: the account's later posts wait no longer than that.
    """
    post = _claimed(session, post_id, token)
    post.outcome_unknown = True
    post.attempts += 1 if counts else 0
    post.lease_until = now + settle_after
    session.add(post)
    audit.record(
        session,
        actor=SYSTEM,
        action="post.outcome_unknown",
        subject=f"post:{post_id}",
        at=now,
        details={
            "worker": worker,
            "error": error,
            "errors": post.attempts,
            "retry_at": post.lease_until.isoformat(),
        },
    )


@dataclass(frozen=True)
class Reconciled:
    found: dict[int, str]  # part position -> id on X
    searched_since: datetime


def record_reconcile(
    session: Session,
    *,
    post_id: int,
    token: int,
    worker: str,
    now: datetime,
    result: Reconciled,
    previous: str | None,
) -> None:
    """Write down what the timeline showed before anything else is sent."""
    _claimed(session, post_id, token)
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
