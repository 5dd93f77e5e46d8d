"""Append-only, hash-chained audit log.

Each entry's hash covers its own fields and the previous entry's hash, so changing,
removing or reordering any entry breaks the chain from that point on. Appends lock the
single `AuditHead` row, which keeps `seq` gapless and the chain linear even with many
workers writing at once (a rolled-back append leaves no gap because the head rolls back
with it).
"""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from approvals.db import VIA
from approvals.models import AuditEntry, AuditHead

GENESIS = "0" * 64
SYSTEM = "system"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(
    *, seq: int, at: datetime, actor: str, action: str, subject: str, details: str, prev: str
) -> str:
    body = canonical_json(
        {
            "seq": seq,
            "at": at.isoformat(),
            "actor": actor,
            "action": action,
            "subject": subject,
            "details": details,
            "prev": prev,
        }
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    at: datetime,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction, so it commits with the change it records."""
    head = _locked_head(session)
    via = session.info.get(VIA)
    if via is not None and "via" not in (details or {}):
        details = {**(details or {}), "via": via}
    details_json = canonical_json(details or {})
    seq = head.seq + 1
    at = at.astimezone(UTC)  # the hash must match what is read back from the database
    digest = entry_hash(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        details=details_json,
        prev=head.hash,
    )
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        details=details_json,
        prev_hash=head.hash,
        hash=digest,
    )
    head.seq, head.hash = seq, digest
    session.add(entry)
    session.add(head)
    session.flush()
    return entry


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


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None


def verify(session: Session, *, batch: int = 1000) -> VerifyResult:
    """Walk the chain from the start; report the first entry that does not hold.

    The head is read first and the walk stops at the entry it names, so entries appended by
    other workers while we walk are left for the next run rather than misread as tampering.
    """
    head = session.exec(
        select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True)
    ).first()
    last = head.seq if head is not None else None
    prev = GENESIS
    expected_seq = 1
    checked = 0
    for entry in _entries(session, batch=batch, upto=last):
        if entry.seq != expected_seq:
            problem = f"entry {expected_seq} is missing (next is {entry.seq})"
            return VerifyResult(False, checked, expected_seq, problem)
        if entry.prev_hash != prev:
            problem = f"entry {entry.seq} does not link to entry {entry.seq - 1}"
            return VerifyResult(False, checked, entry.seq, problem)
        recomputed = entry_hash(
            seq=entry.seq,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            subject=entry.subject,
            details=entry.details,
            prev=entry.prev_hash,
        )
        if recomputed != entry.hash:
            problem = f"entry {entry.seq} was altered (hash does not match)"
            return VerifyResult(False, checked, entry.seq, problem)
        prev = entry.hash
        expected_seq += 1
        checked += 1
    if head is not None and (checked != head.seq or prev != head.hash):
        problem = f"the log ends at entry {checked} but its head records entry {head.seq}"
        return VerifyResult(False, checked, checked + 1, problem)
    return VerifyResult(True, checked)


def _entries(session: Session, *, batch: int, upto: int | None = None) -> Iterator[AuditEntry]:
    last = 0
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
    """One JSON object per line, hashes included, so an export can be checked on its own."""
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
