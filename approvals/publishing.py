"""The door to X: what must hold, at the moment of publishing, for a post to go out.

The dispatcher (in `bot/`) may call X only for a post that `start_publishing` has moved to
`publishing`. That function re-checks everything against the database and the map in
force at that instant, because approvals, rights and pauses may all have changed since
the post was queued.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from approvals.audit import SYSTEM
from approvals.errors import IllegalTransition
from approvals.map_store import current_map
from approvals.models import Post, PostState
from approvals.posts import account_of
from approvals.review import quorum
from approvals.workflow import lock_post, move

DEFAULT_LEASE = timedelta(minutes=5)
PUBLISHABLE = frozenset({PostState.QUEUED, PostState.APPROVED})


@dataclass(frozen=True)
class Blockers:
    reasons: list[str]
    quorum_lapsed: bool

    def __bool__(self) -> bool:
        return bool(self.reasons)


def publish_blockers(session: Session, post: Post, *, now: datetime) -> Blockers:
    """Everything that stops this post going out right now, in words for its author."""
    reasons: list[str] = []
    account = account_of(session, post)
    if account.kind != "corporate" or not account.active:
        reasons.append(f"{account.handle} is not a corporate account in the map in force")
    if account.paused:
        reasons.append(f"{account.handle} is paused")
    status = quorum(session, post, current_map(session))
    lapsed = not status.met
    if lapsed:
        reasons.append(
            f"{len(status.approvers)} of {status.required} approvals count"
            + (f" ({'; '.join(status.lapsed)})" if status.lapsed else "")
        )
    return Blockers(reasons, lapsed)


@dataclass(frozen=True)
class Claim:
    post: Post
    claimed: bool
    reasons: list[str]


def start_publishing(
    session: Session,
    *,
    post_id: int,
    worker: str,
    now: datetime,
    lease: timedelta = DEFAULT_LEASE,
) -> Claim:
    """Claim a due post for publishing, or say why it may not go out now.

    A post whose approvals have lapsed (an approver lost their rights) goes back to review
    rather than waiting in the queue; one that is merely held (a pause) stays queued. The
    caller commits in both cases.
    """
    post = lock_post(session, post_id)
    if post.state not in PUBLISHABLE:
        raise IllegalTransition(f"post {post.id} is {post.state.value}; it is not ready to publish")
    if post.state == PostState.QUEUED and post.scheduled_at is not None and post.scheduled_at > now:
        return Claim(post, False, [f"not due until {post.scheduled_at.isoformat()}"])
    blockers = publish_blockers(session, post, now=now)
    if blockers:
        if blockers.quorum_lapsed:
            move(
                session,
                post,
                PostState.SUBMITTED,
                actor=SYSTEM,
                now=now,
                reason="approvals no longer sufficient: " + "; ".join(blockers.reasons),
            )
        return Claim(post, False, blockers.reasons)
    post.claimed_by, post.claimed_at, post.lease_until = worker, now, now + lease
    post.attempts += 1
    move(session, post, PostState.PUBLISHING, actor=SYSTEM, now=now, details={"worker": worker})
    return Claim(post, True, [])
