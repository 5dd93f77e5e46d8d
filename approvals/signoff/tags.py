"""Tags on a post (`pre-election`, a campaign name): they may add approval stages.

Tags are not part of a post's words, so changing them makes no new revision; but since a
tag can add a stage, they may change only while the post is still a draft or in review,
never once it is approved (taking `pre-election` off an approved post would skip the
propriety check). Every change is audited.
"""

from datetime import datetime

from sqlmodel import Session

from approvals.config import Action
from approvals.errors import IllegalTransition, InvalidInput
from approvals.map_store import current_map
from approvals.models import Person, Post, PostState
from approvals.posts import account_of
from approvals.records import audit
from approvals.signoff.config_stages import normalise_tag
from approvals.workflow import lock_post

TAGGABLE = frozenset({PostState.DRAFT, PostState.SUBMITTED, PostState.REJECTED})
MAX_TAGS = 10


def parse_tags(values: list[str]) -> list[str]:
    tags: list[str] = []
    for value in values:
        try:
            tag = normalise_tag(value)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        if tag not in tags:
            tags.append(tag)
    return tags


def set_tags(
    session: Session,
    *,
    actor: Person,
    post_id: int,
    add: list[str],
    remove: list[str],
    now: datetime,
) -> Post:
    """Add and remove tags; anyone who may draft on the account may tag its posts."""
    wanted, dropped = parse_tags(add), parse_tags(remove)
    post = lock_post(session, post_id)
    account = account_of(session, post)
    current_map(session).require(actor.email, Action.DRAFT, account.handle)
    if post.state not in TAGGABLE:
        raise IllegalTransition(
            f"post {post.id} is {post.state.value}; tags change only before approval "
            "(edit it to send it back to review)"
        )
    before = list(post.tags or [])
    after = [t for t in before if t not in dropped] + [
        t for t in wanted if t not in before and t not in dropped
    ]
    if len(after) > MAX_TAGS:
        raise InvalidInput(f"a post takes at most {MAX_TAGS} tags")
    if after == before:
        return post
    post.tags, post.updated_at = after, now
    session.add(post)
    audit.record(
        session,
        actor=actor.email,
        action="post.tags",
        subject=f"post:{post.id}",
        at=now,
        details={"before": before, "after": after},
    )
    return post
