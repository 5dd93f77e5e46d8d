"""Anchors: the audit head written down outside the database, so a removal can be proven.

The keyed chain and the sealed head catch any entry changed, any chain recomputed and any
head wound back by someone without the key. They cannot catch the database being put
back, whole, to an earlier state of itself (a restored copy, or the last entries deleted
and the old head row replayed from a copy): every part of that earlier state was sealed
for real. An anchor is the head's sequence number, hash, key id and the time it was
taken, written where the database's users cannot reach: a file, the log, and Slack once
it exists (`publish_anchor` takes any `AnchorSink`). `verify_with_anchors` then proves
that every anchored entry is still there with the same hash, and the chain holds up to
the head.
"""

import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlmodel import Session

from approvals.errors import AuditBroken, InvalidInput
from approvals.models import AuditEntry
from approvals.records.audit import (
    GENESIS,
    VerifyResult,
    canonical_json,
    head_problem,
    read_head,
    verify,
)
from approvals.records.audit_keys import keyring_of

ANCHOR_FIELDS = ("seq", "hash", "at", "key_id")


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    at: datetime  # when the anchor was taken
    key_id: str | None  # the key that sealed the head (None: an unkeyed or empty log)

    def to_json(self) -> str:
        return canonical_json(
            {"seq": self.seq, "hash": self.hash, "at": self.at.isoformat(), "key_id": self.key_id}
        )

    @classmethod
    def from_json(cls, line: str, *, where: str) -> "Anchor":
        """One line of an anchor file; `where` (file:line) names it in the error."""
        try:
            raw = json.loads(line)
            if not isinstance(raw, dict) or set(raw) != set(ANCHOR_FIELDS):
                raise ValueError
            seq, digest, key_id = raw["seq"], raw["hash"], raw["key_id"]
            if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
                raise ValueError
            if not isinstance(digest, str) or not (key_id is None or isinstance(key_id, str)):
                raise ValueError
            at = datetime.fromisoformat(raw["at"])
        except (ValueError, TypeError):
            raise InvalidInput(
                f"{where}: not an anchor (a JSON object with {', '.join(ANCHOR_FIELDS)})"
            ) from None
        return cls(seq=seq, hash=digest, at=at, key_id=key_id)


class AnchorSink(Protocol):
    """Somewhere outside the database an anchor is kept: a file, the log, a Slack channel."""

    name: str

    def write(self, anchor: Anchor) -> None: ...


def take_anchor(session: Session, *, now: datetime) -> Anchor:
    """The head as it stands; refused when it does not hold, so nothing forged is anchored.

    Only the head is checked (its seal, and the entry it names), not the whole chain: an
    anchor vouches for one entry's hash, and `audit verify` checks everything before it.
    """
    head = read_head(session)
    if head is None or head.seq == 0:
        return Anchor(seq=0, hash=GENESIS, at=now, key_id=None)
    problem = head_problem(session, head, keyring_of(session))
    entry = session.get(AuditEntry, head.seq)
    if problem is None and (entry is None or entry.hash != head.hash):
        problem = f"the audit head names entry {head.seq}, which is not in the log as recorded"
    if problem is not None:
        raise AuditBroken(f"{problem}; no anchor taken: run `pressgate audit verify`")
    return Anchor(seq=head.seq, hash=head.hash, at=now, key_id=head.key_id)


def publish_anchor(anchor: Anchor, sinks: Sequence[AnchorSink]) -> list[str]:
    """Write the anchor to every sink; one that fails does not stop the others.

    Returns one line per sink that failed (empty when all took it).
    """
    failures = []
    for sink in sinks:
        try:
            sink.write(anchor)
        except OSError as error:
            failures.append(f"{sink.name}: the anchor could not be written ({error.strerror})")
    return failures


def read_anchors(lines: Iterable[str], *, source: str) -> list[tuple[str, Anchor]]:
    """Every anchor in a file's lines, each with where it came from (`file:line`)."""
    anchors = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            where = f"{source}:{number}"
            anchors.append((where, Anchor.from_json(line, where=where)))
    return anchors


def verify_with_anchors(
    session: Session, anchors: Sequence[tuple[str, Anchor]], *, batch: int = 1000
) -> VerifyResult:
    """The whole chain, then each anchored entry: still there, and with the same hash."""
    result = verify(session, batch=batch)
    if not result.ok:
        return result
    end = result.checked
    for where, anchor in anchors:
        if anchor.seq == 0:
            continue
        entry = session.get(AuditEntry, anchor.seq) if anchor.seq <= end else None
        if entry is None:
            problem = (
                f"{where} anchors entry {anchor.seq} but the log ends at entry {end}: entries "
                f"{end + 1}-{anchor.seq} (at least) were removed"
            )
            return _broken(result, end + 1, problem)
        if entry.hash != anchor.hash:
            problem = (
                f"entry {anchor.seq} is not the entry {where} anchors (its hash differs): the "
                "log was rewritten from there on, or put back to an earlier copy and continued"
            )
            return _broken(result, anchor.seq, problem)
    return dataclasses.replace(result, anchors=len(anchors))


def _broken(result: VerifyResult, seq: int, problem: str) -> VerifyResult:
    return dataclasses.replace(
        result, ok=False, checked=seq - 1, first_bad_seq=seq, problem=problem
    )
