"""A post as everyone outside the core sees it: CLI tables, `--json`, the API, Slack previews."""

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, func, select

from approvals.analytics.spend import cost_of_parts
from approvals.delivery.strays import strays_of
from approvals.map_store import current_map
from approvals.models import Account, Person, Post, PostState
from approvals.posts import account_of, current_revision, policy_report, revision_parts
from approvals.schedule import show_local
from approvals.signoff.review import quorum

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


class StrayView(BaseModel):
    """A copy that reached X from a worker that had lost its claim (never an id of record)."""

    position: int
    x_post_id: str
    found_at: datetime
    removed_at: datetime | None


class StageView(BaseModel):
    """One approval stage the post needs: who may fill it and who has."""

    name: str
    rule: str  # "any 2 of the approvers", "all of legal"
    why: str  # "account rule", "finding personal_data.postcode", "tag pre-election"
    eligible: list[str]
    signed: list[str]
    met: bool


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
    strays: list[StrayView]
    findings: list[dict[str, Any]]  # policy findings on the current words, for approvers
    publish_cost: str  # what X bills to publish it: "contains a link: $0.20"
    campaign: str | None = None
    created_at: datetime
    updated_at: datetime
    stages: list[StageView] = []
    tags: list[str] = []


def post_view(session: Session, post: Post, *, now: datetime | None = None) -> PostView:
    """With `now`, approvals past the account's maximum age are shown as lapsed."""
    assert post.id is not None
    account = account_of(session, post)
    author = session.get(Person, post.author_id)
    revision = current_revision(session, post)
    pmap = current_map(session)
    status = quorum(session, post, pmap, now=now)
    parts = revision_parts(session, revision)
    cost = cost_of_parts(
        [p.text for p in parts], sum(len(p.media) for p in parts), pmap.config.x_prices
    )
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
            for p in parts
        ],
        sandbox=post.sandbox,
        strays=[
            StrayView(
                position=s.position,
                x_post_id=s.x_post_id,
                found_at=s.found_at,
                removed_at=s.removed_at,
            )
            for s in strays_of(session, post)
        ],
        findings=[asdict(f) for f in policy_report(session, post).findings],
        publish_cost=cost.line,
        campaign=post.campaign,
        created_at=post.created_at,
        updated_at=post.updated_at,
        stages=[
            StageView(
                name=s.name,
                rule=s.rule,
                why=s.why,
                eligible=s.eligible,
                signed=s.signed,
                met=s.met,
            )
            for s in status.stages
        ],
        tags=list(post.tags or []),
    )


@dataclass(frozen=True)
class PostPage:
    """One page of the pipeline, and how many posts there are in all: no limit is silent."""

    posts: list[PostView]
    total: int
    offset: int

    @property
    def more(self) -> bool:
        return self.offset + len(self.posts) < self.total


def list_posts(
    session: Session,
    *,
    account: str | None = None,
    states: frozenset[PostState] = ACTIVE_STATES,
    limit: int | None = 200,
    offset: int = 0,
) -> PostPage:
    """Posts in the pipeline, soonest first; unscheduled ones after the scheduled."""
    query = select(Post).where(col(Post.state).in_(states))
    if account is not None:
        key = account.strip().lstrip("@").lower()
        query = query.join(Account, Account.id == Post.account_id).where(Account.key == key)  # type: ignore[arg-type]
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    query = query.order_by(col(Post.scheduled_at).is_(None), col(Post.scheduled_at), col(Post.id))
    rows = session.exec(query.offset(offset).limit(limit)).all()
    return PostPage([post_view(session, post) for post in rows], total, offset)
