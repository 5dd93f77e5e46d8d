"""What `/pressgate status` answers: what goes out next, and what is holding posts back.

For one person: the posts with a publishing time on the accounts they hold any right on
(the same rule as seeing a post), soonest first, and how many more there are; the pauses and
blackout windows in force, from the duty board. One query for the posts, then a few per post
shown (a handful at most).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from approvals.config import Action
from approvals.delivery.duty import DutyBoard, duty_board
from approvals.map_store import current_map
from approvals.models import Account, Person, Post, PostState
from approvals.summary import PostView, post_view

DUE_STATES = frozenset(
    {PostState.SUBMITTED, PostState.APPROVED, PostState.QUEUED, PostState.PUBLISHING}
)


@dataclass(frozen=True)
class Status:
    due: list[PostView]  # soonest first
    more: int  # due posts not in `due`
    board: DutyBoard


def status(session: Session, *, viewer: Person, now: datetime, limit: int = 10) -> Status:
    pmap = current_map(session)
    keys = [
        a.key
        for a in pmap.corporate_accounts()
        if any(pmap.can(viewer.email, action, a.handle) for action in Action)
    ]
    query = (
        select(Post)
        .join(Account, Account.id == Post.account_id)  # type: ignore[arg-type]
        .where(
            col(Account.key).in_(keys),
            col(Post.state).in_(DUE_STATES),
            col(Post.scheduled_at).is_not(None),
        )
    )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(Post.scheduled_at), col(Post.id)).limit(limit)).all()
    return Status(
        due=[post_view(session, post) for post in rows],
        more=total - len(rows),
        board=duty_board(session, viewer=viewer, now=now),
    )
