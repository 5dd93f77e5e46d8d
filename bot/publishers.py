"""Which publisher speaks for an account: X through its stored tokens, or the sandbox."""

from collections.abc import Callable

from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session

from approvals.analytics.collector import OwnTimeline
from approvals.clock import Clock
from approvals.db import session_scope
from approvals.delivery.credentials import XTokens, replace_tokens, tokens_of
from approvals.delivery.publisher import Rejected, XPublisher
from approvals.messaging.notify import Notifier
from approvals.models import Account
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

    def publisher_for(session: Session, account: Account) -> XPublisher:
        if sandbox:
            return SandboxPublisher(
                engine=engine, account_key=account.key, clock=clock, session=session
            )
        if account.kind != "corporate":
            raise Rejected(f"{account.handle} is not corporate; nothing is published to it")
        return _connected_client(
            settings, engine, clock, session, account, via=via, notifier=notifier
        )

    return publisher_for


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
