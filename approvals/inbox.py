"""What a person's home page lists: their own posts by where they stand, and what waits for
their decision. Read-only, and a fixed number of queries however many posts there are
(pages list hundreds: no query per row).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from approvals.config import Action
from approvals.map_store import current_map
from approvals.models import Account, Approval, Person, Post, PostState, Revision, RevisionPart

S = PostState
MINE_IN_REVIEW = frozenset({S.SUBMITTED, S.APPROVED, S.QUEUED, S.PUBLISHING})
RETURNED = frozenset({S.REJECTED, S.FAILED})


@dataclass(frozen=True)
class PostRow:
    """A post in a list: enough to recognise it and follow the link."""

    id: int
    account: str
    author: str
    state: str
    text: str  # the first part of the current revision
    parts: int
    scheduled_at: datetime | None
    timezone: str
    reason: str | None
    updated_at: datetime


@dataclass(frozen=True)
class Inbox:
    drafts: list[PostRow]
    returned: list[PostRow]  # rejected or failed: the author has to act
    in_review: list[PostRow]
    awaiting_me: list[PostRow]  # submitted on accounts I approve for, not mine, not decided

    @property
    def counts(self) -> dict[str, int]:
        return {
            "drafts": len(self.drafts),
            "returned": len(self.returned),
            "in_review": len(self.in_review),
            "awaiting_me": len(self.awaiting_me),
        }


def rows(session: Session, posts: list[Post]) -> list[PostRow]:
    """List rows for `posts`, in their order, in three queries."""
    if not posts:
        return []
    ids = [p.id for p in posts]
    handles = dict(session.exec(select(Account.id, Account.handle)).all())
    authors = dict(
        session.exec(
            select(Person.id, Person.email).where(col(Person.id).in_({p.author_id for p in posts}))
        ).all()
    )
    current = and_(
        col(Revision.post_id) == col(Post.id), col(Revision.number) == col(Post.revision_no)
    )
    parts = session.exec(
        select(Post.id, RevisionPart.position, RevisionPart.text)
        .join(Revision, current)
        .join(RevisionPart, col(RevisionPart.revision_id) == col(Revision.id))
        .where(col(Post.id).in_(ids))
    ).all()
    first: dict[int, str] = {}
    count: dict[int, int] = {}
    for post_id, position, text in parts:
        assert post_id is not None
        count[post_id] = count.get(post_id, 0) + 1
        if position == 0:
            first[post_id] = text
    return [
        PostRow(
            id=p.id or 0,
            account=handles.get(p.account_id, "?"),
            author=authors.get(p.author_id, "?"),
            state=p.state.value,
            text=first.get(p.id or 0, ""),
            parts=count.get(p.id or 0, 0),
            scheduled_at=p.scheduled_at,
            timezone=p.timezone,
            reason=p.state_reason,
            updated_at=p.updated_at,
        )
        for p in posts
    ]


def inbox(session: Session, *, person: Person, limit: int = 100) -> Inbox:
    mine = list(
        session.exec(
            select(Post)
            .where(Post.author_id == person.id)
            .order_by(col(Post.updated_at).desc())
            .limit(limit * 3)
        ).all()
    )
    pmap = current_map(session)
    approvable = [
        a.id
        for a in session.exec(select(Account).where(col(Account.active).is_(True))).all()
        if pmap.can(person.email, Action.APPROVE, a.handle)
    ]
    decided = (
        select(Approval.post_id)
        .join(Revision, col(Revision.id) == col(Approval.revision_id))
        .where(Approval.person_id == person.id, col(Revision.post_id) == col(Post.id))
        .where(col(Revision.number) == col(Post.revision_no))
    )
    wrote = select(Revision.post_id).where(
        col(Revision.post_id) == col(Post.id), Revision.created_by_id == person.id
    )
    waiting = list(
        session.exec(
            select(Post)
            .where(
                col(Post.state) == S.SUBMITTED,
                col(Post.account_id).in_(approvable),
                Post.author_id != person.id,
                ~decided.exists(),
                ~wrote.exists(),
            )
            .order_by(col(Post.scheduled_at).is_(None), col(Post.scheduled_at), col(Post.id))
            .limit(limit)
        ).all()
    )
    return Inbox(
        drafts=rows(session, [p for p in mine if p.state == S.DRAFT][:limit]),
        returned=rows(session, [p for p in mine if p.state in RETURNED][:limit]),
        in_review=rows(session, [p for p in mine if p.state in MINE_IN_REVIEW][:limit]),
        awaiting_me=rows(session, waiting),
    )


def count_by_state(session: Session) -> dict[str, int]:
    """Posts in each state, for the counts on the home page."""
    found = session.exec(select(Post.state, func.count()).group_by(col(Post.state))).all()
    return {str(state): int(n) for state, n in found}
