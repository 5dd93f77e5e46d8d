"""How audit entries and the head row are sealed, and how a chain of them is checked.

Pure functions over rows already read: approvals/records/audit.py appends and reads the log. An
entry's hash is an HMAC under the key named by its `key_id` (approvals/records/audit_keys.py), or a
plain SHA-256 for entries written before the chain was keyed; those may only come first,
and the first keyed entry after them must be the `audit.rekeyed` entry that names the last
of them, so the unkeyed part stays pinned by a keyed entry.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from approvals.models import AuditEntry, AuditHead
from approvals.records.audit_keys import AuditKey, AuditKeyring

GENESIS = "0" * 64
REKEYED = "audit.rekeyed"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _entry_body(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    details: str,
    prev: str,
    key_id: str | None = None,
) -> str:
    fields: dict[str, Any] = {
        "seq": seq,
        "at": at.isoformat(),
        "actor": actor,
        "action": action,
        "subject": subject,
        "details": details,
        "prev": prev,
    }
    if key_id is not None:  # bound into the MAC, so an entry cannot claim another key
        fields["key_id"] = key_id
    return canonical_json(fields)


def entry_hash(
    *, seq: int, at: datetime, actor: str, action: str, subject: str, details: str, prev: str
) -> str:
    """The plain SHA-256 of an entry written before the chain was keyed."""
    body = _entry_body(
        seq=seq, at=at, actor=actor, action=action, subject=subject, details=details, prev=prev
    )
    return hashlib.sha256(body.encode()).hexdigest()


def head_seal(key: AuditKey, *, seq: int, hash: str) -> str:
    return key.mac(canonical_json({"audit_head": seq, "hash": hash, "key_id": key.key_id}))


def seal(entry: AuditEntry, key: AuditKey | None) -> str:
    """The entry's hash: HMAC under `key`, or for an unkeyed entry (`key` None) plain SHA-256."""
    body = _entry_body(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        subject=entry.subject,
        details=entry.details,
        prev=entry.prev_hash,
        key_id=None if key is None else key.key_id,
    )
    return hashlib.sha256(body.encode()).hexdigest() if key is None else key.mac(body)


def _holds(entry: AuditEntry, key: AuditKey | None) -> bool:
    return hmac.compare_digest(seal(entry, key), entry.hash)


def seal_problem(head: AuditHead, keys: AuditKeyring) -> str | None:
    """What is wrong with a keyed head row's seal, or None."""
    key = keys.by_id(head.key_id or "")
    if key is None:
        return (
            f"the audit log is sealed with key {head.key_id}, which is not configured here "
            "(PRESSGATE_AUDIT_KEY, or PRESSGATE_SECRET_KEY, differs from the one that wrote it)"
        )
    if not hmac.compare_digest(head_seal(key, seq=head.seq, hash=head.hash), head.seal or ""):
        return (
            f"the audit head row names entry {head.seq} but its seal does not match: it was "
            f"rewritten outside pressgate (entries after {head.seq} may have been removed)"
        )
    return None


def unsealed_head(seq: int) -> str:
    return (
        f"the audit head row (entry {seq}) carries no seal although the log is keyed: it was "
        "rewritten outside pressgate"
    )


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    unkeyed: int = 0  # entries from before the re-keying, checked by plain SHA-256
    rekeyed_at: int | None = None  # the `audit.rekeyed` entry
    key_ids: tuple[str, ...] = ()  # keys that sealed the keyed entries, oldest first
    anchors: int = 0  # anchors found to hold (approvals/records/audit_anchor.py)
    # Where this walk started: 1, or the entry after those a walk that held had checked
    # (`audit.verify_on`), which were walked from the start at `whole_walk_at` if known.
    walked_from: int = 1
    whole_walk_at: datetime | None = None


@dataclass
class ChainWalk:
    """The chain walked entry by entry: links, hashes, and where the keyed part starts."""

    keys: AuditKeyring
    prev: str = GENESIS
    next_seq: int = 1
    unkeyed: int = 0
    keyed: int = 0
    rekeyed_at: int | None = None
    key_ids: list[str] = field(default_factory=list)

    def step(self, entry: AuditEntry) -> tuple[int, str] | None:
        """The first bad seq and the problem, or None if the entry holds."""
        if entry.seq != self.next_seq:
            return self.next_seq, f"entry {self.next_seq} is missing (next is {entry.seq})"
        if entry.prev_hash != self.prev:
            return entry.seq, f"entry {entry.seq} does not link to entry {entry.seq - 1}"
        problem = self._unkeyed(entry) if entry.key_id is None else self._keyed(entry)
        if problem is not None:
            return entry.seq, problem
        self.prev, self.next_seq = entry.hash, entry.seq + 1
        return None

    def _unkeyed(self, entry: AuditEntry) -> str | None:
        if self.keyed or entry.action == REKEYED:
            return (
                f"entry {entry.seq} has no key although the log had been keyed by then: it "
                "was rewritten without the key"
            )
        if not _holds(entry, None):
            return f"entry {entry.seq} was altered (hash does not match)"
        self.unkeyed += 1
        return None

    def _keyed(self, entry: AuditEntry) -> str | None:
        key = self.keys.by_id(entry.key_id or "")
        if key is None:
            return (
                f"entry {entry.seq} is sealed with key {entry.key_id}, which is not configured "
                "here (set PRESSGATE_AUDIT_KEY, or PRESSGATE_SECRET_KEY, to the one that wrote it)"
            )
        if not _holds(entry, key):
            return (
                f"entry {entry.seq} was altered (its HMAC does not match: changed, or "
                "recomputed without the key)"
            )
        if self.keyed == 0 and self.unkeyed > 0:
            if entry.action != REKEYED:
                return f"entry {entry.seq} follows unkeyed entries but does not re-key the log"
            if not _names(entry, self.unkeyed, self.prev):
                return (
                    f"entry {entry.seq} re-keys the log but does not name entry {self.unkeyed} "
                    "as it is stored: the unkeyed entries before it were rewritten"
                )
            self.rekeyed_at = entry.seq
        elif entry.action == REKEYED:
            return f"entry {entry.seq} re-keys a log that was not unkeyed before it"
        self.keyed += 1
        if entry.key_id not in self.key_ids:
            self.key_ids.append(entry.key_id or "")
        return None

    def copy(self) -> "ChainWalk":
        """The same walk, to go on from without changing this one."""
        return replace(self, key_ids=list(self.key_ids))  # every field, the list not shared

    def finish(self, head: AuditHead | None) -> tuple[int, str] | None:
        checked = self.next_seq - 1
        if head is None:
            return (1, "the audit head row is missing") if checked else None
        if checked != head.seq or self.prev != head.hash:
            return (
                checked + 1,
                f"the log ends at entry {checked} but its head records entry {head.seq}",
            )
        if head.key_id is not None:
            problem = seal_problem(head, self.keys)
            return None if problem is None else (head.seq, problem)
        if self.keyed:
            return head.seq, unsealed_head(head.seq)
        if self.unkeyed:
            return 1, (
                f"entries 1-{self.unkeyed} carry no key and no re-keying entry follows them: "
                "the chain was recomputed without the key, or this log was never re-keyed "
                "(`pressgate db upgrade` re-keys it)"
            )
        return None

    def result(self, bad: tuple[int, str] | None) -> VerifyResult:
        seq, problem = bad if bad is not None else (None, None)
        return VerifyResult(
            ok=bad is None,
            checked=self.unkeyed + self.keyed,
            first_bad_seq=seq,
            problem=problem,
            unkeyed=self.unkeyed,
            rekeyed_at=self.rekeyed_at,
            key_ids=tuple(self.key_ids),
        )


def _names(entry: AuditEntry, last_seq: int, last_hash: str) -> bool:
    """The `audit.rekeyed` entry names the unkeyed entry just before it."""
    details = json.loads(entry.details)
    return bool(
        details.get("legacy_last_seq") == last_seq and details.get("legacy_last_hash") == last_hash
    )
