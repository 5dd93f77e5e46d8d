"""Append-only, hash-chained audit log, keyed so that holding the database is not enough.

Each entry's hash is an HMAC (approvals/records/audit_keys.py) over its own fields, the id of the
key and the previous entry's hash, so changing, removing or reordering any entry breaks the
chain from that point on, and nobody without the key can recompute it. Appends lock the
single `AuditHead` row, which keeps `seq` gapless and the chain linear even with many
workers writing at once (a rolled-back append leaves no gap because the head rolls back
with it). The head row is sealed with the key as well: winding it back to an earlier entry
to hide the ones after it breaks the seal. Putting back a whole old head row copied from
an earlier state of the database is caught only by an anchor kept outside it
(approvals/records/audit_anchor.py).

Logs written before the chain was keyed hold plain SHA-256 entries. The first keyed append
to such a log (or `pressgate db upgrade`) first writes an `audit.rekeyed` entry, sealed
with the key, naming the last unkeyed entry and its hash; from then on that entry pins the
unkeyed part, and `verify` checks it by plain hash and everything after by HMAC.
"""

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from approvals.db import VIA
from approvals.errors import AuditBroken
from approvals.models import AuditEntry, AuditHead
from approvals.records.audit_chain import (
    GENESIS,
    REKEYED,
    ChainWalk,
    VerifyResult,
    canonical_json,
    entry_hash,
    head_seal,
    seal,
    seal_problem,
    unsealed_head,
)
from approvals.records.audit_keys import AuditKey, AuditKeyring, keyring_of

SYSTEM = "system"
_HEAD = AuditHead.__table__  # type: ignore[attr-defined]
__all__ = [
    "GENESIS",
    "REKEYED",
    "SYSTEM",
    "VerifyResult",
    "canonical_json",
    "entries_for",
    "entry_hash",
    "export_jsonl",
    "head_problem",
    "read_head",
    "record",
    "rekey",
    "verify",
    "verify_on",
]


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    at: datetime,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction, so it commits with the change it records,
    and with the Slack notices the change causes (`approvals.messaging.notices`).

    A head row that does not hold refuses the append (and so the change it records):
    appending to a head wound back by someone else would seal over the entries it hides.

    The notices are planned before the head is locked: every writer in every process waits
    on that one row, so it is held only for the append itself and the commit after it.
    """
    via = session.info.get(VIA)
    if via is not None and "via" not in (details or {}):
        details = {**(details or {}), "via": via}  # the door the change came through
    at = at.astimezone(UTC)  # the hash must match what is read back from the database
    # The one hook of the outbox: what this change tells people in Slack is written with it.
    from approvals.messaging import notices  # here: notices reads posts, which record through us

    notices.plan(session, actor=actor, action=action, subject=subject, at=at, details=details or {})
    keys = keyring_of(session)
    head = _locked_head(session)
    _refuse_a_broken_head(session, head, keys)
    if head.key_id is None and head.seq > 0:
        _rekey(session, head, keys.current, at)
    entry = _append(
        session,
        head,
        keys.current,
        actor=actor,
        action=action,
        subject=subject,
        at=at,
        details=canonical_json(details or {}),
    )
    return entry


def rekey(session: Session, *, at: datetime) -> AuditEntry | None:
    """Key a log that holds only unkeyed entries now, rather than at its next append.

    Returns the `audit.rekeyed` entry, or None when the log is empty or already keyed.
    """
    keys = keyring_of(session)
    seen = read_head(session)
    if seen is None or seen.key_id is not None or seen.seq == 0:
        return None  # without taking the head's lock: every process start asks
    head = _locked_head(session)
    if head.key_id is not None:
        return None  # another process re-keyed it meanwhile
    _refuse_a_broken_head(session, head, keys)
    return _rekey(session, head, keys.current, at.astimezone(UTC))


def _rekey(session: Session, head: AuditHead, key: AuditKey, at: datetime) -> AuditEntry:
    details = {"legacy_last_seq": head.seq, "legacy_last_hash": head.hash}
    return _append(
        session,
        head,
        key,
        actor=SYSTEM,
        action=REKEYED,
        subject="audit:log",
        at=at,
        details=canonical_json(details),
    )


def _append(
    session: Session,
    head: AuditHead,
    key: AuditKey,
    *,
    actor: str,
    action: str,
    subject: str,
    at: datetime,
    details: str,
) -> AuditEntry:
    entry = AuditEntry(
        seq=head.seq + 1,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        details=details,
        prev_hash=head.hash,
        hash="",
        key_id=key.key_id,
    )
    entry.hash = seal(entry, key)
    session.add(entry)
    session.flush()  # the entry before the head: PostgreSQL's head guard looks it up
    # The head moves by one plain UPDATE rather than a second flush (this runs on every
    # write path); the session's copy of the row is told the new values as stored ones.
    moved = {
        "seq": entry.seq,
        "hash": entry.hash,
        "key_id": key.key_id,
        "seal": head_seal(key, seq=entry.seq, hash=entry.hash),
    }
    session.connection().execute(_HEAD.update().where(_HEAD.c.id == head.id).values(moved))
    for name, value in moved.items():
        set_committed_value(head, name, value)
    return entry


def _refuse_a_broken_head(session: Session, head: AuditHead, keys: AuditKeyring) -> None:
    problem = head_problem(session, head, keys)
    if problem is not None:
        raise AuditBroken(
            f"{problem}; nothing was recorded: run `pressgate audit verify` and investigate"
        )


def head_problem(session: Session, head: AuditHead, keys: AuditKeyring) -> str | None:
    """What is wrong with the head row as found (one HMAC, or one read for an unkeyed log)."""
    if head.key_id is not None:
        return seal_problem(head, keys)
    if head.seq == 0:
        return None
    last = session.get(AuditEntry, head.seq)
    if last is not None and last.key_id is None and last.hash == head.hash:
        return None  # a log from before keying, to be re-keyed at its next append
    return unsealed_head(head.seq)


def _locked_head(session: Session) -> AuditHead:
    query = (
        select(AuditHead)
        .where(AuditHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    head = session.exec(query).first()
    if head is not None:
        return head
    # First entry ever (migrations seed the row; a schema made by create_all does not).
    # Two first writers may race to create it: the loser's insert fails in its savepoint
    # and it then waits on the winner's row lock like any later writer.
    try:
        with session.begin_nested():
            session.add(AuditHead(id=1, seq=0, hash=GENESIS))
    except IntegrityError:
        pass
    return session.exec(query).one()


def verify(session: Session, *, batch: int = 1000) -> VerifyResult:
    """Walk the chain from the start; report the first entry that does not hold.

    The head is read first and the walk stops at the entry it names, so entries appended by
    other workers while we walk are left for the next run rather than misread as tampering.
    """
    return verify_on(session, None, batch=batch)[0]


def verify_on(
    session: Session, done: ChainWalk | None, *, batch: int = 1000
) -> tuple[VerifyResult, ChainWalk | None]:
    """`verify`, going on from `done` (a walk that held, as this returned it) over the
    entries appended since, so a page that shows the verdict on every load does not walk
    the whole chain each time. Returns the verdict and, when the chain holds, the walk to go
    on from next time.

    The last entry `done` walked must still be there with the hash it had; if it is not, the
    chain is walked again from the start, which names the first entry that no longer holds.
    Entries before that one are not read again: an edit to them shows at the next walk from
    the start, which whoever keeps `done` decides when to ask for (`ChainVerdicts`).
    """
    keys = keyring_of(session)
    head = read_head(session)
    if done is not None and (done.keys is not keys or not _still_ends_at(session, done)):
        done = None  # walked under other keys, or cut off since: walk from the start
    walk = ChainWalk(keys) if done is None else done.copy()
    start = walk.next_seq
    upto = head.seq if head is not None else None
    bad: tuple[int, str] | None = None
    for entry in _entries(session, batch=batch, upto=upto, after=start - 1):
        bad = walk.step(entry)
        if bad is not None:
            break
    else:
        bad = walk.finish(head)
    result = dataclasses.replace(walk.result(bad), walked_from=start)
    return result, (walk if bad is None else None)


def _still_ends_at(session: Session, done: ChainWalk) -> bool:
    """The entry `done` walked last is stored as it was (nothing walked was cut off)."""
    last = done.next_seq - 1
    if last == 0:
        return True
    stored = session.exec(select(AuditEntry.hash).where(AuditEntry.seq == last)).first()
    return stored == done.prev


def read_head(session: Session) -> AuditHead | None:
    return session.exec(
        select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True)
    ).first()


def _entries(
    session: Session, *, batch: int, upto: int | None = None, after: int = 0
) -> Iterator[AuditEntry]:
    last = after
    while True:
        query = select(AuditEntry).where(AuditEntry.seq > last)
        if upto is not None:
            query = query.where(AuditEntry.seq <= upto)
        rows = session.exec(query.order_by(col(AuditEntry.seq)).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def export_jsonl(session: Session, out: TextIO) -> int:
    """One JSON object per line, hashes and key ids included, so an export can be checked on
    its own by whoever holds the key."""
    count = 0
    for entry in _entries(session, batch=1000):
        out.write(
            canonical_json(
                {
                    "seq": entry.seq,
                    "at": entry.at.isoformat(),
                    "actor": entry.actor,
                    "action": entry.action,
                    "subject": entry.subject,
                    "details": json.loads(entry.details),
                    "prev_hash": entry.prev_hash,
                    "hash": entry.hash,
                    "key_id": entry.key_id,
                }
            )
            + "\n"
        )
        count += 1
    return count


def entries_for(session: Session, subject: str) -> list[AuditEntry]:
    return list(
        session.exec(
            select(AuditEntry).where(AuditEntry.subject == subject).order_by(col(AuditEntry.seq))
        ).all()
    )
