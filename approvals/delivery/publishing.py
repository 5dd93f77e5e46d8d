"""The door to X: which post goes out next, and what must hold at that instant.

The dispatcher (in `bot/`) may call X only for a post it has claimed here. A claim is taken
under the account's row lock (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: the single
writer), so however many workers run, one account has at most one post in flight and its
posts leave in scheduled order. Approvals, rights, pauses, blackouts and policy are checked
again at claim time, because any of them may have changed since the post was queued.

Every claim raises the post's fencing token (`Post.claim_token`). A lease can run out under
a worker that is merely frozen; the token is how it finds out, when it wakes, that the post
was taken over: `outcomes` accepts nothing from a worker whose token is no longer current.

Lock order (everywhere in pressgate, see `approvals.db`): account row, then post row, then
the global-pause row, then the audit head.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, select

from approvals.content.policy import describe
from approvals.delivery.controls import holds
from approvals.errors import IllegalTransition
from approvals.map_store import current_map
from approvals.models import Account, Post, PostState, RevisionPart
from approvals.posts import account_of, current_revision, policy_report, revision_parts
from approvals.records.audit import SYSTEM
from approvals.signoff.review import quorum
from approvals.workflow import lock_post, move

DEFAULT_LEASE = timedelta(minutes=5)
PUBLISHABLE = frozenset({PostState.QUEUED, PostState.APPROVED})


@dataclass(frozen=True)
class Blockers:
    reasons: list[str]
    quorum_lapsed: bool = False
    held: bool = False

    def __bool__(self) -> bool:
        return bool(self.reasons)


def publish_blockers(session: Session, post: Post, *, now: datetime) -> Blockers:
    """Everything that stops this post going out right now, in words for its author."""
    account = account_of(session, post)
    if account.kind != "corporate" or not account.active:
        return Blockers([f"{account.handle} is not a corporate account in the map in force"])
    held = holds(session, account, now)
    if held:
        return Blockers(held, held=True)
    status = quorum(session, post, current_map(session), now=now)
    if not status.met:
        detail = f" ({'; '.join(status.lapsed)})" if status.lapsed else ""
        reason = f"approvals short: {status.shortfall()}{detail}"
        return Blockers([reason], quorum_lapsed=True)
    findings = policy_report(session, post).blocking
    return Blockers([f"blocked by policy: {describe(f)}" for f in findings])


@dataclass(frozen=True)
class Claim:
    """A post taken for publishing, or (with `reasons`) why it may not go out now."""

    post: Post
    parts: list[RevisionPart]
    token: int = 0  # the fencing token this claim holds
    reconcile: bool = False  # an earlier attempt's outcome is unknown: look at X first
    previous_worker: str | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def claimed(self) -> bool:
        return not self.reasons

    @property
    def remaining(self) -> list[RevisionPart]:
        return [p for p in self.parts if p.x_post_id is None]


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(col(Post.state) == PostState.QUEUED, col(Post.scheduled_at) <= now),
        and_(col(Post.state) == PostState.FAILED, col(Post.failure_retryable).is_(True)),
        and_(col(Post.state) == PostState.PUBLISHING, col(Post.lease_until) <= now),
    )


def accounts_with_work(session: Session, *, now: datetime) -> list[int]:
    """Accounts that have a post due, a retry pending or an unfinished attempt to settle."""
    query = select(Post.account_id).where(_due(now)).distinct()
    return sorted(session.exec(query).all())


def next_due_at(session: Session) -> datetime | None:
    """When the dispatcher should next wake for a scheduled post (None: nothing queued)."""
    query = select(Post.scheduled_at).where(
        col(Post.state) == PostState.QUEUED, col(Post.scheduled_at).is_not(None)
    )
    return session.exec(query.order_by(col(Post.scheduled_at)).limit(1)).first()


def _lock_account(session: Session, account_id: int) -> Account | None:
    query = (
        select(Account)
        .where(Account.id == account_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return session.exec(query).first()


def _candidates(session: Session, account_id: int, now: datetime) -> list[Post]:
    query = (
        select(Post)
        .where(Post.account_id == account_id, _due(now))
        .order_by(col(Post.scheduled_at).nulls_first(), col(Post.id))
        .execution_options(populate_existing=True)
    )
    return list(session.exec(query).all())


def claim_next(
    session: Session,
    *,
    account_id: int,
    worker: str,
    now: datetime,
    lease: timedelta = DEFAULT_LEASE,
) -> Claim | None:
    """Claim the account's next post for `worker`, or None if nothing may go out now.

    An unfinished attempt (a worker died, or X's answer never came) is claimed first, for
    reconciliation only. A retry waits its turn: later posts never overtake it. The caller
    commits whatever this returns, including the moves of posts that were found blocked.
    """
    account = _lock_account(session, account_id)
    if account is None:
        return None  # another worker holds this account right now
    busy = session.exec(
        select(Post.id).where(
            Post.account_id == account_id,
            col(Post.state) == PostState.PUBLISHING,
            col(Post.lease_until) > now,
        )
    ).first()
    if busy is not None or holds(session, account, now):
        return None
    for candidate in _candidates(session, account_id, now):
        assert candidate.id is not None
        seen = candidate.state
        post = lock_post(session, candidate.id)  # an approver or author may be at it now
        if post.state != seen:
            continue
        parts = revision_parts(session, current_revision(session, post))
        if post.state == PostState.PUBLISHING:
            previous = post.claimed_by
            _take(post, worker, now, lease)
            session.add(post)
            return Claim(post, parts, post.claim_token, reconcile=True, previous_worker=previous)
        if post.state == PostState.FAILED and post.next_attempt_at and post.next_attempt_at > now:
            return None  # the account waits for its retry
        claim = _try_claim(session, post, parts, worker, now, lease)
        if claim.claimed:
            return claim
    return None


def start_publishing(
    session: Session,
    *,
    post_id: int,
    worker: str,
    now: datetime,
    lease: timedelta = DEFAULT_LEASE,
) -> Claim:
    """Claim one given post (the "publish now" door), with every check `claim_next` makes."""
    post = lock_post(session, post_id)
    if post.state not in PUBLISHABLE:
        raise IllegalTransition(f"post {post.id} is {post.state.value}; it is not ready to publish")
    if post.state == PostState.QUEUED and post.scheduled_at is not None and post.scheduled_at > now:
        return Claim(post, [], reasons=[f"not due until {post.scheduled_at.isoformat()}"])
    parts = revision_parts(session, current_revision(session, post))
    return _try_claim(session, post, parts, worker, now, lease)


def _try_claim(
    session: Session,
    post: Post,
    parts: list[RevisionPart],
    worker: str,
    now: datetime,
    lease: timedelta,
) -> Claim:
    blockers = publish_blockers(session, post, now=now)
    if blockers:
        if not blockers.held:  # a pause or blackout only delays; anything else sets it aside
            _set_aside(session, post, parts, blockers, now)
        return Claim(post, parts, reasons=blockers.reasons)
    retry = post.state == PostState.FAILED
    _take(post, worker, now, lease)
    post.publish_started_at = post.publish_started_at or now
    details = {"worker": worker, "token": post.claim_token, "errors": post.attempts, "retry": retry}
    move(session, post, PostState.PUBLISHING, actor=SYSTEM, now=now, details=details)
    return Claim(post, parts, post.claim_token)


def _take(post: Post, worker: str, now: datetime, lease: timedelta) -> None:
    """Hand the post to `worker` under a new fencing token; a claim is not an attempt."""
    post.claimed_by, post.claimed_at, post.lease_until = worker, now, now + lease
    post.claim_token += 1


def _set_aside(
    session: Session, post: Post, parts: list[RevisionPart], blockers: Blockers, now: datetime
) -> None:
    """A due post that may not go out: back to review, or failed if it can't simply wait."""
    reason = "; ".join(blockers.reasons)
    if any(p.x_post_id for p in parts):
        reason = "stopped part-way through the thread: " + reason
    elif blockers.quorum_lapsed:
        # Back to review; its approvers are asked again (expired approvals, a new stage).
        post.reminded_at = None
        move(session, post, PostState.SUBMITTED, actor=SYSTEM, now=now, reason=reason)
        return
    post.failure_retryable, post.next_attempt_at = False, None
    move(session, post, PostState.FAILED, actor=SYSTEM, now=now, reason=reason)
