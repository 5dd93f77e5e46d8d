"""Stray copies: parts that reached X from a worker that had already lost its claim.

A worker frozen past its lease (a long GC pause, a suspended VM, SIGSTOP) may wake in the
middle of a call to X that another worker has since made for it. Fencing stops it sending
anything more, but the call it was in may still land. Such a copy is nobody's id of record:
it is written down here (so no reconcile adopts it) and deleted from X, both audited, and
the ids of record never change. Deleting is retried by every dispatcher pass until it holds.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from approvals.delivery.outcomes import taken_ids
from approvals.models import Post, StrayPost
from approvals.records import audit
from approvals.records.audit import SYSTEM
from approvals.workflow import lock_post


@dataclass(frozen=True)
class Stray:
    id: int
    post_id: int
    account_id: int
    x_post_id: str


def record_stray(
    session: Session, *, post_id: int, position: int, x_post_id: str, worker: str, now: datetime
) -> Stray | None:
    """Write down a copy that is not the part's id of record; None if it is (or is known).

    Taken under the post's row lock, like `outcomes.record_part`, so a reconcile cannot
    adopt the same id at the same moment: whichever comes second sees the first.
    """
    post = lock_post(session, post_id)
    if x_post_id in taken_ids(session, [x_post_id]):
        return None
    stray = StrayPost(
        post_id=post_id,
        account_id=post.account_id,
        position=position,
        x_post_id=x_post_id,
        found_by=worker,
        found_at=now,
    )
    session.add(stray)
    session.flush()
    assert stray.id is not None
    audit.record(
        session,
        actor=SYSTEM,
        action="post.stray_found",
        subject=f"post:{post_id}",
        at=now,
        details={"x_post_id": x_post_id, "part": position, "worker": worker},
    )
    return Stray(stray.id, post_id, post.account_id, x_post_id)


def pending_strays(session: Session) -> list[Stray]:
    """Strays still on X, oldest first."""
    rows = session.exec(
        select(StrayPost).where(col(StrayPost.removed_at).is_(None)).order_by(col(StrayPost.id))
    ).all()
    return [Stray(r.id or 0, r.post_id, r.account_id, r.x_post_id) for r in rows]


def has_pending_strays(session: Session, post_id: int) -> bool:
    query = select(StrayPost.id).where(
        StrayPost.post_id == post_id, col(StrayPost.removed_at).is_(None)
    )
    return session.exec(query).first() is not None


def stray_removed(session: Session, *, stray_id: int, worker: str, now: datetime) -> None:
    """The copy is gone from X; recorded once, whoever deleted it."""
    row = _locked(session, stray_id)
    if row is None or row.removed_at is not None:
        return
    row.removed_at, row.last_error = now, None
    session.add(row)
    audit.record(
        session,
        actor=SYSTEM,
        action="post.stray_removed",
        subject=f"post:{row.post_id}",
        at=now,
        details={"x_post_id": row.x_post_id, "part": row.position, "worker": worker},
    )


def stray_not_removed(session: Session, *, stray_id: int, error: str) -> None:
    """X would not delete it this time; the next dispatcher pass tries again."""
    row = _locked(session, stray_id)
    if row is not None and row.removed_at is None:
        row.last_error = error[:500]
        session.add(row)


def _locked(session: Session, stray_id: int) -> StrayPost | None:
    query = (
        select(StrayPost)
        .where(StrayPost.id == stray_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.exec(query).first()


def strays_of(session: Session, post: Post) -> list[StrayPost]:
    """For the post's page and `show`: every stray copy and whether it was removed."""
    query = select(StrayPost).where(StrayPost.post_id == post.id).order_by(col(StrayPost.id))
    return list(session.exec(query).all())
