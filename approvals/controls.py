"""The duty officer's brakes: pause one account or everything, and blackout windows.

A pause is a row in the database (so every worker sees it at once) and is audited; a
blackout comes from the map in force, so it is versioned and audited with the map.
"""

from datetime import datetime

from sqlmodel import Session, select

from approvals import audit
from approvals.config import Action, BlackoutConfig, PressgateConfig
from approvals.errors import Refused
from approvals.hidden_text import refuse_control_characters
from approvals.map_store import current_map, get_account
from approvals.models import Account, GlobalPause, Person
from approvals.schedule import local_to_utc


def global_pause(session: Session) -> GlobalPause | None:
    """The crisis switch; None (running) on a schema built without migrations."""
    return session.get(GlobalPause, 1)


def _locked_global_pause(session: Session) -> GlobalPause:
    row = session.exec(select(GlobalPause).where(GlobalPause.id == 1).with_for_update()).first()
    if row is None:
        row = GlobalPause(id=1)
        session.add(row)
        session.flush()
    return row


def pause(
    session: Session,
    *,
    actor: Person,
    now: datetime,
    account_handle: str | None = None,
    reason: str | None = None,
) -> None:
    """Stop publishing on one account, or on every account when no handle is given."""
    refuse_control_characters(reason or "", where="the reason")
    _set_paused(session, actor, now, account_handle, reason, paused=True)


def resume(
    session: Session, *, actor: Person, now: datetime, account_handle: str | None = None
) -> None:
    _set_paused(session, actor, now, account_handle, None, paused=False)


def _set_paused(
    session: Session,
    actor: Person,
    now: datetime,
    handle: str | None,
    reason: str | None,
    *,
    paused: bool,
) -> None:
    pmap = current_map(session)
    verb = "pause" if paused else "resume"
    if handle is None:
        pmap.require(actor.email, Action.PAUSE)
        row = _locked_global_pause(session)
        if row.paused == paused:
            raise Refused(f"publishing is already {'paused' if paused else 'running'} everywhere")
        row.paused, row.paused_at, row.paused_by, row.reason = paused, now, actor.email, reason
        session.add(row)
        subject = "publishing:all"
    else:
        account = get_account(session, handle)
        if account.kind != "corporate":
            raise Refused(f"{account.handle} is a personal account; nothing publishes to it")
        pmap.require(actor.email, Action.PAUSE, account.handle)
        if account.paused == paused:
            state = "paused" if paused else "not paused"
            raise Refused(f"{account.handle} is already {state}")
        account.paused, account.paused_at = paused, now
        account.paused_by, account.pause_reason = actor.email, reason
        session.add(account)
        subject = f"account:{account.key}"
    audit.record(
        session,
        actor=actor.email,
        action=f"publishing.{verb}",
        subject=subject,
        at=now,
        details={"reason": reason} if reason else {},
    )


def window_utc(window: BlackoutConfig) -> tuple[datetime, datetime]:
    return (
        local_to_utc(window.start, zone=window.timezone),
        local_to_utc(window.end, zone=window.timezone),
    )


def active_blackout(
    config: PressgateConfig, account_key: str, now: datetime
) -> BlackoutConfig | None:
    for window in config.blackouts:
        start, end = window_utc(window)
        if start <= now < end and window.covers(account_key):
            return window
    return None


def holds(session: Session, account: Account, now: datetime) -> list[str]:
    """Why nothing may go out on this account right now (pause, blackout), in plain words."""
    reasons: list[str] = []
    everywhere = global_pause(session)
    if everywhere is not None and everywhere.paused:
        reasons.append(f"all publishing is paused (by {everywhere.paused_by})")
    if account.paused:
        reasons.append(f"{account.handle} is paused (by {account.paused_by})")
    window = active_blackout(current_map(session).config, account.key, now)
    if window is not None:
        reasons.append(f"blackout window '{window.name}' is in force")
    return reasons
