"""Which publisher speaks for an account: X through its stored tokens, or the sandbox."""

import hashlib
import threading
from collections.abc import Callable

from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session

from approvals.analytics.collector import OwnTimeline
from approvals.clock import Clock
from approvals.db import session_scope
from approvals.delivery.credentials import XTokens, credential_of, replace_tokens, tokens_of
from approvals.delivery.publisher import Rejected, XPublisher
from approvals.messaging.notify import Notifier
from approvals.models import Account, Credential
from bot.sandbox import SandboxPublisher
from bot.settings import Settings
from bot.x_client import OnCall, XClient
from bot.x_spend import ledger

PublisherFor = Callable[[Session, Account], XPublisher]


def publisher_factory(
    settings: Settings,
    engine: Engine,
    clock: Clock,
    notifier: Notifier | None = None,
    *,
    via: str = "dispatch",
) -> PublisherFor:
    """The sandbox when asked for (`PRESSGATE_SANDBOX=1`, or the demo); otherwise X through
    the account's tokens. Without X app credentials and no sandbox asked for, it refuses:
    a post must never be marked published when it did not reach X."""
    settings.require_publisher()
    sandbox = settings.publisher == "sandbox"
    if not sandbox:
        settings.require_real_secret()  # the tokens are encrypted with it
    clients = ClientCache()

    def publisher_for(session: Session, account: Account) -> XPublisher:
        if sandbox:
            return SandboxPublisher(
                engine=engine, account_key=account.key, clock=clock, session=session
            )
        if account.kind != "corporate":
            raise Rejected(f"{account.handle} is not corporate; nothing is published to it")
        stored = credential_of(session, account)
        found = clients.get(account, stored)
        if found is not None:
            return found
        client = _connected_client(
            settings, engine, clock, session, account, via=via, notifier=notifier
        )
        clients.keep(account, stored, client)
        return client

    return publisher_for


class ClientCache:
    """An account's client, kept from one post to the next while its stored tokens stay the
    same: its connection to X stays open (no new TLS handshake per post) and the tokens are
    not decrypted again. Any change to the stored tokens (a refresh by any worker, a
    reconnect) seals them anew, so the ciphertext differs and a new client is made from them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[int, tuple[bytes, XClient]] = {}

    def get(self, account: Account, stored: Credential | None) -> XClient | None:
        if stored is None or account.id is None:
            return None
        with self._lock:
            kept = self._clients.get(account.id)
        if kept is None or kept[0] != _fingerprint(stored):
            return None
        return kept[1]

    def keep(self, account: Account, stored: Credential | None, client: XClient) -> None:
        if stored is not None and account.id is not None:
            with self._lock:
                self._clients[account.id] = (_fingerprint(stored), client)


def _fingerprint(stored: Credential) -> bytes:
    return hashlib.sha256(stored.ciphertext).digest()


def timeline_factory(
    settings: Settings, engine: Engine, clock: Clock, notifier: Notifier | None = None
) -> Callable[[Session, Account], OwnTimeline | None]:
    """For the collector: the account's client, or None when there is nothing to read (the
    sandbox, a personal account, an account not connected to X)."""
    sandbox = settings.publisher != "x"

    def timeline_for(session: Session, account: Account) -> OwnTimeline | None:
        if sandbox or account.kind != "corporate":
            return None
        secret = settings.secret_key.get_secret_value()
        if tokens_of(session, account, secret) is None:
            return None
        return _connected_client(
            settings, engine, clock, session, account, via="collector", notifier=notifier
        )

    return timeline_for


def _connected_client(
    settings: Settings,
    engine: Engine,
    clock: Clock,
    session: Session,
    account: Account,
    *,
    via: str,
    notifier: Notifier | None,
) -> XClient:
    secret = settings.secret_key.get_secret_value()
    stored = tokens_of(session, account, secret)
    if stored is None:
        raise Rejected(
            f"{account.handle} is not connected to X; run `pressgate accounts connect "
            f"{account.handle}`"
        )
    credential, tokens = stored
    assert account.id is not None
    account_id = account.id

    def save(new: XTokens) -> None:
        with session_scope(engine) as own:
            replace_tokens(
                own, account_id=account_id, tokens=new, secret_key=secret, now=clock.now()
            )

    on_call = ledger(engine=engine, clock=clock, account_id=account_id, via=via, notifier=notifier)
    return x_client(
        settings, tokens, x_user_id=credential.x_user_id, on_refresh=save, on_call=on_call
    )


def x_client(
    settings: Settings,
    tokens: XTokens,
    *,
    x_user_id: str,
    on_refresh: Callable[[XTokens], None] | None = None,
    on_call: OnCall | None = None,
) -> XClient:
    """An account's client with the app's credentials and where X is, from the settings."""
    return XClient(
        tokens=tokens,
        x_user_id=x_user_id,
        consumer_key=_plain(settings.x_consumer_key),
        consumer_secret=_plain(settings.x_consumer_secret),
        client_id=_plain(settings.x_client_id),
        client_secret=_plain(settings.x_client_secret),
        api_url=settings.x_api_url,
        timeout=settings.x_timeout,
        on_refresh=on_refresh,
        on_call=on_call,
    )


def _plain(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
