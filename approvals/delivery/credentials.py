"""Corporate accounts' X tokens, encrypted at rest with a key derived from the secret key.

Only accounts the map declares corporate can hold tokens (invariant 5). Tokens are never
logged or shown: `XTokens` hides them from `repr`, and audit entries name the account and
the token kind only.
"""

import base64
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from sqlmodel import Session, col, select

from approvals.config import Action
from approvals.errors import InvalidInput, Refused
from approvals.keys import derive_key
from approvals.map_store import current_map, get_account
from approvals.models import Account, Credential, Person
from approvals.records import audit

KINDS = frozenset({"oauth1", "oauth2"})


@dataclass(frozen=True)
class XTokens:
    kind: str  # oauth1 (access token + secret) | oauth2 (access + refresh token)
    access_token: str = field(repr=False)
    access_token_secret: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidInput(f"token kind must be oauth1 or oauth2 (got {self.kind!r})")
        if not self.access_token:
            raise InvalidInput("the access token is empty")
        if self.kind == "oauth1" and not self.access_token_secret:
            raise InvalidInput("OAuth 1.0a needs the access token secret too")


def cipher(secret_key: str) -> Fernet:
    """A Fernet key derived from PRESSGATE_SECRET_KEY, separate from any other use of it."""
    key = derive_key(secret_key, b"pressgate x credentials v1")
    return Fernet(base64.urlsafe_b64encode(key))


def _seal(tokens: XTokens, secret_key: str) -> bytes:
    return cipher(secret_key).encrypt(json.dumps(asdict(tokens)).encode())


def _open(blob: bytes, secret_key: str) -> XTokens:
    try:
        raw = cipher(secret_key).decrypt(blob)
    except InvalidToken:
        raise Refused(
            "stored X tokens cannot be decrypted: PRESSGATE_SECRET_KEY has changed since the "
            "account was connected; connect it again"
        ) from None
    return XTokens(**json.loads(raw))


def connect(
    session: Session,
    *,
    actor: Person,
    account_handle: str,
    tokens: XTokens,
    x_user_id: str,
    x_username: str,
    secret_key: str,
    now: datetime,
) -> Credential:
    """Store an account's tokens; the caller has checked them with X (`x_username`)."""
    account = get_account(session, account_handle)
    if account.kind != "corporate":
        raise Refused(f"{account.handle} is not a corporate account; it can never be connected")
    current_map(session).require(actor.email, Action.MANAGE, account.handle)
    if x_username.lower() != account.key:
        raise Refused(
            f"these tokens belong to @{x_username} on X, not {account.handle}; nothing stored"
        )
    assert account.id is not None
    row = credential_of(session, account) or Credential(
        account_id=account.id,
        kind=tokens.kind,
        x_user_id="",
        x_username="",
        ciphertext=b"",
        connected_by="",
        updated_at=now,
    )
    row.kind, row.x_user_id, row.x_username = tokens.kind, x_user_id, x_username
    row.ciphertext, row.connected_by, row.updated_at = _seal(tokens, secret_key), actor.email, now
    session.add(row)
    audit.record(
        session,
        actor=actor.email,
        action="account.connect",
        subject=f"account:{account.key}",
        at=now,
        details={"kind": tokens.kind, "x_user_id": x_user_id},
    )
    return row


def credential_of(session: Session, account: Account) -> Credential | None:
    return session.exec(select(Credential).where(Credential.account_id == account.id)).first()


def tokens_of(
    session: Session, account: Account, secret_key: str
) -> tuple[Credential, XTokens] | None:
    row = credential_of(session, account)
    if row is None:
        return None
    return row, _open(row.ciphertext, secret_key)


def replace_tokens(
    session: Session, *, account_id: int, tokens: XTokens, secret_key: str, now: datetime
) -> None:
    """After an OAuth 2.0 refresh: X has already invalidated the old refresh token."""
    row = session.exec(select(Credential).where(Credential.account_id == account_id)).one()
    row.ciphertext, row.updated_at = _seal(tokens, secret_key), now
    session.add(row)
    account = session.get(Account, account_id)
    assert account is not None
    audit.record(
        session,
        actor=audit.SYSTEM,
        action="account.token_refreshed",
        subject=f"account:{account.key}",
        at=now,
        details={"kind": tokens.kind},
    )


@dataclass(frozen=True)
class Rotation:
    """What `rotate_secret_key` did: accounts re-encrypted, and those already under it."""

    rotated: list[str]
    already: list[str]
    new_key: str  # the new key's fingerprint (`key_fingerprint`), never the key


def key_fingerprint(secret_key: str) -> str:
    """A short name for a secret key, safe to log and audit (derived one way from it)."""
    return derive_key(secret_key, b"pressgate key fingerprint v1")[:6].hex()


def rotate_secret_key(
    session: Session,
    *,
    actor: Person,
    old_keys: Sequence[str],
    new_key: str,
    now: datetime,
) -> Rotation:
    """Re-encrypt every stored X token under `new_key`, in the caller's one transaction.

    Each row is opened with the new key (already rotated: left alone, so a rotation that
    was interrupted, or run twice, finishes cleanly) or else with one of `old_keys`. A row
    that opens with none of them refuses the whole rotation: nothing is changed, rather
    than leaving some accounts under a key nobody holds any more.
    """
    current_map(session).require(actor.email, Action.MANAGE)
    rotated, already = [], []
    for row in session.exec(select(Credential).order_by(col(Credential.id))).all():
        account = session.get(Account, row.account_id)
        handle = account.handle if account is not None else f"account {row.account_id}"
        if _opens(row.ciphertext, new_key) is not None:
            already.append(handle)
            continue
        tokens = next(
            (t for t in (_opens(row.ciphertext, k) for k in old_keys) if t is not None), None
        )
        if tokens is None:
            raise Refused(
                f"the stored X tokens of {handle} open with none of the previous keys given "
                "(PRESSGATE_PREVIOUS_SECRET_KEYS); nothing was changed"
            )
        row.ciphertext, row.updated_at = _seal(tokens, new_key), now
        session.add(row)
        rotated.append(handle)
    rotation = Rotation(rotated, already, key_fingerprint(new_key))
    audit.record(
        session,
        actor=actor.email,
        action="secrets.rotated",
        subject="secrets:secret_key",
        at=now,
        details={"rotated": rotated, "already": already, "new_key": rotation.new_key},
    )
    return rotation


def _opens(blob: bytes, secret_key: str) -> XTokens | None:
    try:
        return _open(blob, secret_key)
    except Refused:
        return None
