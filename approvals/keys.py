"""Keys derived from PRESSGATE_SECRET_KEY, one per use.

Each use (X token encryption, web session cookies, signed review links) gets its own key,
derived with HKDF under its own label, so a key leaked or misused in one place opens
nothing in another, and the secret key itself is never used directly.
"""

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32


def derive_key(secret_key: str, label: bytes) -> bytes:
    """The key for one use (`label`, e.g. b"pressgate web sessions v1") of the secret key."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=label).derive(
        secret_key.encode()
    )
