"""The post lifecycle as an explicit state machine.

Every change of state goes through `move()`, which refuses transitions the table does not
allow and writes the audit entry, so no code path can change a post's state unrecorded.
"""

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from approvals.errors import IllegalTransition, NotFound
from approvals.models import Post, PostState
from approvals.records import audit

S = PostState

TRANSITIONS: dict[PostState, frozenset[PostState]] = {
    S.DRAFT: frozenset({S.DRAFT, S.SUBMITTED, S.WITHDRAWN}),
    S.SUBMITTED: frozenset({S.SUBMITTED, S.APPROVED, S.QUEUED, S.REJECTED, S.WITHDRAWN, S.DRAFT}),
    S.APPROVED: frozenset(
        {S.QUEUED, S.SUBMITTED, S.DRAFT, S.REJECTED, S.WITHDRAWN, S.PUBLISHING, S.FAILED}
    ),
    S.QUEUED: frozenset(
        {S.APPROVED, S.SUBMITTED, S.DRAFT, S.REJECTED, S.WITHDRAWN, S.PUBLISHING, S.FAILED}
    ),
    S.PUBLISHING: frozenset({S.PUBLISHED, S.FAILED}),
    S.PUBLISHED: frozenset({S.TAKEN_DOWN}),
    S.REJECTED: frozenset({S.DRAFT, S.WITHDRAWN}),
    S.FAILED: frozenset({S.PUBLISHING, S.SUBMITTED, S.DRAFT, S.WITHDRAWN}),
    S.WITHDRAWN: frozenset(),
    S.TAKEN_DOWN: frozenset(),
}

# States whose words may still change; an edit makes a new revision.
EDITABLE = frozenset({S.DRAFT, S.SUBMITTED, S.APPROVED, S.QUEUED, S.REJECTED, S.FAILED})
# States in which a decision by an approver is meaningful.
REVIEWABLE = frozenset({S.SUBMITTED, S.APPROVED, S.QUEUED})
WITHDRAWABLE = frozenset(s for s, targets in TRANSITIONS.items() if S.WITHDRAWN in targets)
# Where an edit leads: a rejected post goes back to its author's desk; anything already
# in review goes back to review, with every earlier approval void (or to the author's desk
# if the new words have blocking policy findings: see posts.edit).
AFTER_EDIT: dict[PostState, PostState] = {
    S.DRAFT: S.DRAFT,
    S.REJECTED: S.DRAFT,
    S.SUBMITTED: S.SUBMITTED,
    S.APPROVED: S.SUBMITTED,
    S.QUEUED: S.SUBMITTED,
    S.FAILED: S.SUBMITTED,
}

_VERBS = {
    S.SUBMITTED: "submit",
    S.APPROVED: "approve",
    S.QUEUED: "queue",
    S.PUBLISHING: "publish",
    S.PUBLISHED: "mark published",
    S.REJECTED: "reject",
    S.WITHDRAWN: "withdraw",
    S.FAILED: "mark failed",
    S.TAKEN_DOWN: "take down",
    S.DRAFT: "return to draft",
}


def lock_post(session: Session, post_id: int) -> Post:
    """Load a post for change, holding its row lock so concurrent decisions serialise."""
    query = (
        select(Post)
        .where(Post.id == post_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    post = session.exec(query).first()
    if post is None:
        raise NotFound(f"post {post_id} does not exist")
    return post


def ensure_can_move(post: Post, to: PostState) -> None:
    if to not in TRANSITIONS[post.state]:
        raise IllegalTransition(
            f"post {post.id} is {post.state.value}; it cannot {_VERBS[to]} from there"
        )


def move(
    session: Session,
    post: Post,
    to: PostState,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    ensure_can_move(post, to)
    before = post.state
    post.state = to
    post.updated_at = now
    post.state_reason = reason
    session.add(post)
    audit.record(
        session,
        actor=actor,
        action=f"post.{to.value}",
        subject=f"post:{post.id}",
        at=now,
        details={
            "from": before.value,
            "to": to.value,
            "revision": post.revision_no,
            **({"reason": reason} if reason else {}),
            **(details or {}),
        },
    )
