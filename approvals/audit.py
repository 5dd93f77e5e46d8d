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

from sqlmodel import Session, col, select

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
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
        session.flush()
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


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None


def verify(session: Session, *, batch: int = 1000) -> VerifyResult:
    """Walk the chain from the start; report the first entry that does not hold."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    for entry in _entries(session, batch=batch):
        if entry.seq != expected_seq:
            return VerifyResult(
                False,
                checked,
                expected_seq,
                f"entry {expected_seq} is missing (next is {entry.seq})",
            )
        if entry.prev_hash != prev:
            return VerifyResult(
                False,
                checked,
                entry.seq,
                f"entry {entry.seq} does not link to entry {entry.seq - 1}",
            )
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
            return VerifyResult(
                False, checked, entry.seq, f"entry {entry.seq} was altered (hash does not match)"
            )
        prev = entry.hash
        expected_seq += 1
        checked += 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != checked or head.hash != prev):
        return VerifyResult(
            False,
            checked,
            checked + 1 if head.seq > checked else head.seq,
            f"the log ends at entry {checked} but its head records entry {head.seq}",
        )
    return VerifyResult(True, checked)


def _entries(session: Session, *, batch: int) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = session.exec(
            select(AuditEntry)
            .where(AuditEntry.seq > last)
            .order_by(col(AuditEntry.seq))
            .limit(batch)
        ).all()
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
