"""The keys that seal the audit chain, kept out of the database.

Each entry's hash is an HMAC-SHA256 under a key derived from `PRESSGATE_AUDIT_KEY` (or, when
that is unset, from `PRESSGATE_SECRET_KEY`), so someone holding only the database can
neither rewrite an entry nor recompute the chain. Entries record the id of the key that
sealed them (an HMAC of a fixed label, never the key), so a log can be verified across a
key rotation: the keyring holds the key that seals new entries and any older ones that
only verify.

The keyring travels with the engine as an execution option: `audit.record()` keeps its
signature, and every session opened on an engine built by `make_engine(url,
audit_keys=...)` can seal entries. An engine built without a keyring fails loudly at the
first append instead of writing an unkeyed entry.
"""

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from approvals.errors import InvalidInput

if TYPE_CHECKING:  # settings load this module; the CLI must not pay for the ORM to start
    from sqlmodel import Session

ENGINE_OPTION = "pressgate_audit_keys"
_DERIVE_INFO = b"pressgate audit chain v1"
_KEY_ID_LABEL = b"pressgate audit key id"


class AuditKeyMissing(InvalidInput):
    """No audit key: none configured (PRESSGATE_AUDIT_KEY, or a usable secret key), or an
    engine built without the keyring. Nothing can be recorded, so no change is made."""


@dataclass(frozen=True)
class AuditKey:
    key_id: str
    secret: bytes = field(repr=False)

    @classmethod
    def derive(cls, material: str) -> "AuditKey":
        """The chain key for a secret, separate from any other use of the same secret."""
        from cryptography.hazmat.primitives import hashes  # only when a key is derived
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        secret = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_DERIVE_INFO).derive(
            material.encode()
        )
        key_id = hmac.new(secret, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]
        return cls(key_id=key_id, secret=secret)

    def mac(self, body: str) -> str:
        return hmac.new(self.secret, body.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class AuditKeyring:
    """`current` seals new entries; `older` keys only verify what they sealed before."""

    current: AuditKey
    older: tuple[AuditKey, ...] = ()

    @classmethod
    def derive(cls, material: str, older: Iterable[str] = ()) -> "AuditKeyring":
        return cls(AuditKey.derive(material), tuple(AuditKey.derive(m) for m in older))

    def by_id(self, key_id: str) -> AuditKey | None:
        for key in (self.current, *self.older):
            if hmac.compare_digest(key.key_id, key_id):
                return key
        return None

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(k.key_id for k in (self.current, *self.older))


def keyring_of(session: "Session") -> AuditKeyring:
    """The keyring of the engine the session is bound to."""
    keys = session.connection().get_execution_options().get(ENGINE_OPTION)
    if not isinstance(keys, AuditKeyring):
        raise AuditKeyMissing(
            "no audit key: every change is written to the audit log sealed with a key, so set "
            "PRESSGATE_SECRET_KEY (at least 32 random characters) or PRESSGATE_AUDIT_KEY"
        )
    return keys
