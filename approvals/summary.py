"""A post as everyone outside the core sees it: CLI tables, `--json`, the API, Slack previews."""

from dataclasses import asdict
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from approvals.map_store import current_map
from approvals.models import Account, Person, Post, PostState
from approvals.posts import account_of, current_revision, policy_report, revision_parts
from approvals.review import quorum
from approvals.schedule import show_local

ACTIVE_STATES = frozenset(
    {
        PostState.DRAFT,
        PostState.SUBMITTED,
        PostState.APPROVED,
        PostState.QUEUED,
        PostState.PUBLISHING,
        PostState.REJECTED,
        PostState.FAILED,
    }
)


class PartView(BaseModel):
    position: int
    text: str
    media: list[dict[str, str | None]]
    x_post_id: str | None = None


class PostView(BaseModel):
    id: int
    account: str
    author: str
    state: str
    state_reason: str | None
    revision: int
    revision_hash: str
    scheduled_at: datetime | None
    scheduled_local: str
    timezone: str
    approvals: list[str]
    approvals_required: int
    approvals_lapsed: list[str]
    parts: list[PartView]
    sandbox: bool  # published by the sandbox publisher: it is not on X
    findings: list[dict[str, Any]]  # policy findings on the current words, for approvers
    created_at: datetime
    updated_at: datetime


def post_view(session: Session, post: Post) -> PostView:
    assert post.id is not None
    account = account_of(session, post)
    author = session.get(Person, post.author_id)
    revision = current_revision(session, post)
    status = quorum(session, post, current_map(session))
    return PostView(
        id=post.id,
        account=account.handle,
        author=author.email if author else "?",
        state=post.state.value,
        state_reason=post.state_reason,
        revision=revision.number,
        revision_hash=revision.content_hash,
        scheduled_at=post.scheduled_at,
        scheduled_local=show_local(post.scheduled_at, post.timezone),
        timezone=post.timezone,
        approvals=status.approvers,
        approvals_required=status.required,
        approvals_lapsed=status.lapsed,
        parts=[
            PartView(position=p.position, text=p.text, media=list(p.media), x_post_id=p.x_post_id)
            for p in revision_parts(session, revision)
        ],
        sandbox=post.sandbox,
        findings=[asdict(f) for f in policy_report(session, post).findings],
        created_at=post.created_at,
        updated_at=post.updated_at,
    )


def list_posts(
    session: Session,
    *,
    account: str | None = None,
    states: frozenset[PostState] = ACTIVE_STATES,
    limit: int = 200,
) -> list[PostView]:
    """Posts in the pipeline, soonest first; unscheduled ones after the scheduled."""
    query = select(Post).where(col(Post.state).in_(states))
    if account is not None:
        key = account.strip().lstrip("@").lower()
        query = query.join(Account, Account.id == Post.account_id).where(Account.key == key)  # type: ignore[arg-type]
    query = query.order_by(col(Post.scheduled_at).is_(None), col(Post.scheduled_at), col(Post.id))
    return [post_view(session, post) for post in session.exec(query.limit(limit)).all()]
