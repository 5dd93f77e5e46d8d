"""The outbox's bookkeeping: which notice is due, who is sending it, what became of it.

A sender claims one notice per short transaction (under its row lock, taken with SKIP
LOCKED on PostgreSQL, so workers side by side never take the same one), sends it with no
transaction open, and then records the outcome in a second short transaction, checked
against the claim's token: a worker that lost its claim (frozen past its lease) records
nothing. A notice is due when its time has come, its retry time too, nobody holds a live
claim on it, and every earlier due notice of its queue is settled: a post's request goes
out before the update that changes it, a pause before its resume.

Slack takes no idempotency key, so exactly once has one gap, kept as small as it can be:
a worker that dies after Slack answered and before its record commits (milliseconds) leaves
the notice pending, and it is sent again once the claim's lease has run out.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from approvals.messaging.notices import DROPPED, FAILED, PENDING, SENT, UPDATE, still_wanted
from approvals.models import Notice


@dataclass(frozen=True)
class Claimed:
    """One notice to send, as its sender needs it (no database object crosses the send)."""

    id: int
    token: int
    kind: str
    channel: str | None
    text: str
    blocks: list[dict[str, Any]]
    post_id: int | None
    link_for: int | None
    revision_hash: str | None
    closes: bool
    attempts: int
    # For an update: the request message it changes, as sent.
    target_channel: str | None = None
    target_ts: str | None = None
    target_blocks: list[dict[str, Any]] | None = None


def _due(now: datetime) -> Any:
    earlier = aliased(Notice)
    waiting = exists().where(
        col(earlier.queue) == col(Notice.queue),
        col(earlier.id) < col(Notice.id),
        col(earlier.state) == PENDING,
        col(earlier.due_at) <= now,
    )
    return and_(
        col(Notice.state) == PENDING,
        col(Notice.due_at) <= now,
        or_(col(Notice.next_attempt_at).is_(None), col(Notice.next_attempt_at) <= now),
        or_(col(Notice.claim_until).is_(None), col(Notice.claim_until) <= now),
        ~waiting,
    )


def due_ids(session: Session, *, now: datetime, limit: int = 100) -> list[int]:
    query = select(Notice.id).where(_due(now)).order_by(col(Notice.id)).limit(limit)
    return [i for i in session.exec(query).all() if i is not None]


def claim(
    session: Session, notice_id: int, *, worker: str, now: datetime, lease: timedelta
) -> Claimed | None:
    """Take one due notice for `lease`; None if another worker has it or it needs no sending
    (an update of a request that never went out, a blackout the map no longer has)."""
    query = (
        select(Notice)
        .where(Notice.id == notice_id, _due(now))
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    row = session.exec(query).first()
    if row is None:
        return None
    return _take(session, row, worker=worker, now=now, lease=lease)


def claim_due(
    session: Session, *, worker: str, now: datetime, lease: timedelta, limit: int
) -> tuple[list[Claimed], int]:
    """Take up to `limit` due notices at once, skipping those another worker holds; returns
    them and how many were looked at (some need no sending and are dropped). For delivery
    with no call out between claim and record (the log): one transaction for a batch."""
    query = (
        select(Notice)
        .where(_due(now))
        .order_by(col(Notice.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    rows = list(session.exec(query).all())
    taken = [_take(session, row, worker=worker, now=now, lease=lease) for row in rows]
    return [c for c in taken if c is not None], len(rows)


def _take(
    session: Session, row: Notice, *, worker: str, now: datetime, lease: timedelta
) -> Claimed | None:
    target = session.get(Notice, row.target_id) if row.kind == UPDATE and row.target_id else None
    if row.kind == UPDATE and (target is None or target.state != SENT or not target.sent_ts):
        _drop(session, row, "the message it updates never reached Slack")
        return None
    if not still_wanted(session, row):
        _drop(session, row, "the map in force no longer has this blackout")
        return None
    row.claim_token += 1
    row.claimed_by, row.claim_until = worker, now + lease
    session.add(row)
    assert row.id is not None
    return Claimed(
        id=row.id,
        token=row.claim_token,
        kind=row.kind,
        channel=row.channel,
        text=row.text,
        blocks=list(row.blocks or []),
        post_id=row.post_id,
        link_for=row.link_for,
        revision_hash=row.revision_hash,
        closes=row.closes,
        attempts=row.attempts,
        target_channel=target.sent_channel if target else None,
        target_ts=target.sent_ts if target else None,
        target_blocks=list(target.blocks or []) if target else None,
    )


def mark_sent(
    session: Session,
    claimed: Claimed,
    *,
    now: datetime,
    channel: str | None = None,
    ts: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
) -> bool:
    """Record a notice as delivered (with where Slack put it); False if the claim was lost."""
    row = _held(session, claimed)
    if row is None:
        return False
    _record_sent(session, row, now=now, channel=channel, ts=ts, blocks=blocks)
    return True


def mark_claimed_sent(session: Session, batch: list[Claimed], *, now: datetime) -> None:
    """Record as delivered the notices `claim_due` took in this same transaction (the log's
    batch). Their rows are still locked by that claim, so unlike `mark_sent`, which follows
    a call to Slack made outside any transaction, nothing is read again: the rows are in the
    session (a query only if one was let go meanwhile), and the claim and the record go out
    as one UPDATE each."""
    for claimed in batch:
        row = session.get(Notice, claimed.id)
        if row is None or row.claim_token != claimed.token or row.state != PENDING:
            raise RuntimeError(f"notice {claimed.id} changed under its own transaction's lock")
        _record_sent(session, row, now=now)


def _record_sent(
    session: Session,
    row: Notice,
    *,
    now: datetime,
    channel: str | None = None,
    ts: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
) -> None:
    row.state, row.sent_at, row.sent_channel, row.sent_ts = SENT, now, channel, ts
    if blocks is not None:
        row.blocks = blocks  # as sent (with the approver's link): what an update starts from
    row.claimed_by, row.claim_until, row.last_error = None, None, None
    session.add(row)


def mark_failed(
    session: Session, claimed: Claimed, *, now: datetime, error: str, retry_at: datetime | None
) -> bool:
    """Record a failed attempt: tried again at `retry_at`, or given up for good (None)."""
    row = _held(session, claimed)
    if row is None:
        return False
    row.attempts += 1
    row.last_error = error[:500]
    row.next_attempt_at = retry_at
    if retry_at is None:
        row.state = FAILED
    row.claimed_by, row.claim_until = None, None
    session.add(row)
    return True


def _held(session: Session, claimed: Claimed) -> Notice | None:
    query = (
        select(Notice)
        .where(Notice.id == claimed.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    row = session.exec(query).first()
    if row is None or row.claim_token != claimed.token or row.state != PENDING:
        return None
    return row


def _drop(session: Session, row: Notice, why: str) -> None:
    row.state, row.last_error = DROPPED, why
    session.add(row)
