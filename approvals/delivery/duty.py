"""The duty officer's board: what is paused, which blackout holds or comes next, which
accounts can reach X, and which brakes the person looking may pull.

What may be pulled is worked out here from the map so a page shows only the forms that
would work; the services (`controls.pause`, `controls.resume`, `takedown.takedown`) still
decide every request on its own. Of an account's X connection only the X username and when
it was stored are read out: never a token, never the ciphertext.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from approvals.config import WILDCARD, Action, BlackoutConfig
from approvals.delivery.controls import global_pause, in_force, window_utc
from approvals.delivery.credentials import credential_of
from approvals.map_store import current_map, get_account
from approvals.models import Person
from approvals.permissions import PermissionMap


@dataclass(frozen=True)
class PauseState:
    paused: bool
    by: str | None = None
    at: datetime | None = None
    reason: str | None = None
    until: datetime | None = None  # lifts by itself then
    lift_requested_by: str | None = None  # global pause: the first of two people to resume


@dataclass(frozen=True)
class AccountDuty:
    handle: str
    timezone: str
    pause: PauseState
    connected_as: str | None  # the X username the stored tokens belong to
    connected_at: datetime | None
    may_pause: bool  # the viewer may pause or resume this account


@dataclass(frozen=True)
class Window:
    """A blackout window, its times in UTC (shown in `timezone`, the zone it was set in)."""

    name: str
    start: datetime
    end: datetime
    timezone: str
    accounts: list[str]  # handles, or ["every corporate account"]


@dataclass(frozen=True)
class DutyBoard:
    everything: PauseState
    may_pause_all: bool
    may_take_down: bool  # on at least one account
    accounts: list[AccountDuty]
    active_blackouts: list[Window]
    next_blackout: Window | None


def duty_board(session: Session, *, viewer: Person, now: datetime) -> DutyBoard:
    pmap = current_map(session)
    row = global_pause(session)
    everything = (
        PauseState(
            True, row.paused_by, row.paused_at, row.reason, row.ends_at, row.lift_requested_by
        )
        if row is not None and in_force(row.paused, row.ends_at, now)
        else PauseState(False)
    )
    accounts: list[AccountDuty] = []
    for declared in pmap.corporate_accounts():
        account = get_account(session, declared.handle)
        credential = credential_of(session, account)
        accounts.append(
            AccountDuty(
                handle=account.handle,
                timezone=account.timezone,
                pause=(
                    PauseState(
                        True,
                        account.paused_by,
                        account.paused_at,
                        account.pause_reason,
                        account.pause_ends_at,
                    )
                    if in_force(account.paused, account.pause_ends_at, now)
                    else PauseState(False)
                ),
                connected_as=credential.x_username if credential else None,
                connected_at=credential.updated_at if credential else None,
                may_pause=pmap.can(viewer.email, Action.PAUSE, account.handle),
            )
        )
    windows = [_window(w, pmap) for w in pmap.config.blackouts]
    upcoming = sorted((w for w in windows if w.start > now), key=lambda w: w.start)
    return DutyBoard(
        everything=everything,
        may_pause_all=pmap.can(viewer.email, Action.PAUSE),
        may_take_down=any(
            pmap.can(viewer.email, Action.TAKEDOWN, a.handle) for a in pmap.corporate_accounts()
        ),
        accounts=accounts,
        active_blackouts=[w for w in windows if w.start <= now < w.end],
        next_blackout=upcoming[0] if upcoming else None,
    )


def _window(window: BlackoutConfig, pmap: PermissionMap) -> Window:
    start, end = window_utc(window)
    handles = (
        ["every corporate account"]
        if WILDCARD in window.accounts
        else [pmap.account(h).handle for h in window.accounts]
    )
    return Window(window.name, start, end, window.timezone, handles)
