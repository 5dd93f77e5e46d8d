"""The duty officer's brakes: pause one account or everything, and blackout windows.

A pause is a row in the database (so every worker sees it at once) and is audited; a
blackout comes from the map in force, so it is versioned and audited with the map.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from approvals.config import Action, BlackoutConfig, PressgateConfig
from approvals.content.reasons import check_reason
from approvals.errors import InvalidInput, Refused
from approvals.map_store import current_map, get_account
from approvals.models import Account, GlobalPause, Person
from approvals.records import audit
from approvals.records.audit import SYSTEM
from approvals.schedule import local_to_utc


def global_pause(session: Session) -> GlobalPause | None:
    """The crisis switch; None (running) on a schema built without migrations."""
    return session.get(GlobalPause, 1)


def in_force(paused: bool, ends_at: datetime | None, now: datetime) -> bool:
    """A pause holds until it is lifted or, if it was given an end, until that instant."""
    return paused and (ends_at is None or now < ends_at)


def _locked_global_pause(session: Session) -> GlobalPause:
    row = session.exec(select(GlobalPause).where(GlobalPause.id == 1).with_for_update()).first()
    if row is None:
        row = GlobalPause(id=1)
        session.add(row)
        session.flush()
    return row


@dataclass(frozen=True)
class Resumed:
    """What a resume did: lifted the pause, or (global pause, first person) asked for it."""

    lifted: bool
    requested_by: str | None = None  # the first of the two people, once both have acted

    def describe(self, target: str) -> str:
        if self.lifted:
            second = f" (asked by {self.requested_by})" if self.requested_by else ""
            return f"resumed: {target}{second}"
        return (
            f"resume of {target} requested: a second person with the pause right must "
            "confirm it before anything is published"
        )


def pause(
    session: Session,
    *,
    actor: Person,
    now: datetime,
    account_handle: str | None = None,
    reason: str | None = None,
    until: datetime | None = None,
) -> None:
    """Stop publishing on one account, or on every account when no handle is given; with
    `until`, the pause lifts by itself at that time."""
    if until is not None and until <= now:
        raise InvalidInput("the pause's end is in the past; give a future time")
    if reason is not None:
        reason = check_reason(reason, what="the reason for the pause") or None
    pmap = current_map(session)
    if account_handle is None:
        pmap.require(actor.email, Action.PAUSE)
        row = _locked_global_pause(session)
        if in_force(row.paused, row.ends_at, now):
            raise Refused("publishing is already paused everywhere")
        row.paused, row.paused_at, row.paused_by, row.reason = True, now, actor.email, reason
        row.ends_at, row.lift_requested_by, row.lift_requested_at = until, None, None
        session.add(row)
        subject = "publishing:all"
    else:
        account = _pausable(session, account_handle, actor)
        if in_force(account.paused, account.pause_ends_at, now):
            raise Refused(f"{account.handle} is already paused")
        account.paused, account.paused_at = True, now
        account.paused_by, account.pause_reason = actor.email, reason
        account.pause_ends_at = until
        session.add(account)
        subject = f"account:{account.key}"
    details: dict[str, str] = {"reason": reason} if reason else {}
    if until is not None:
        details["until"] = until.isoformat()
    audit.record(
        session,
        actor=actor.email,
        action="publishing.pause",
        subject=subject,
        at=now,
        details=details,
    )


def resume(
    session: Session, *, actor: Person, now: datetime, account_handle: str | None = None
) -> Resumed:
    """Lift a pause. An account's: one person with the pause right. Everything: two different
    people (two-person rule); the first is recorded as a pending request, both audited."""
    if account_handle is not None:
        account = _pausable(session, account_handle, actor)
        if not in_force(account.paused, account.pause_ends_at, now):
            raise Refused(f"{account.handle} is already not paused")
        account.paused, account.paused_at, account.pause_ends_at = False, now, None
        account.paused_by, account.pause_reason = actor.email, None
        session.add(account)
        audit.record(
            session,
            actor=actor.email,
            action="publishing.resume",
            subject=f"account:{account.key}",
            at=now,
            details={},
        )
        return Resumed(lifted=True)
    pmap = current_map(session)
    pmap.require(actor.email, Action.PAUSE)
    row = _locked_global_pause(session)
    if not in_force(row.paused, row.ends_at, now):
        raise Refused("publishing is already running everywhere")
    first = row.lift_requested_by
    if first is not None and not pmap.can(first, Action.PAUSE):
        first = None  # the first person has lost the pause right since: their ask lapses
    if first == actor.email:
        raise Refused(
            f"{actor.email} already asked to resume; a second person with the pause right "
            "must confirm it (two-person rule)"
        )
    if first is None:
        row.lift_requested_by, row.lift_requested_at = actor.email, now
        session.add(row)
        audit.record(
            session,
            actor=actor.email,
            action="publishing.resume_requested",
            subject="publishing:all",
            at=now,
            details={"needs": "a second person with the pause right"},
        )
        return Resumed(lifted=False)
    row.paused, row.paused_at, row.paused_by, row.reason = False, now, actor.email, None
    row.ends_at, row.lift_requested_by, row.lift_requested_at = None, None, None
    session.add(row)
    audit.record(
        session,
        actor=actor.email,
        action="publishing.resume",
        subject="publishing:all",
        at=now,
        details={"requested_by": first, "confirmed_by": actor.email},
    )
    return Resumed(lifted=True, requested_by=first)


def _pausable(session: Session, handle: str, actor: Person) -> Account:
    account = get_account(session, handle)
    if account.kind != "corporate":
        raise Refused(f"{account.handle} is a personal account; nothing publishes to it")
    current_map(session).require(actor.email, Action.PAUSE, account.handle)
    return account


def pauses_ended(session: Session, *, now: datetime) -> bool:
    """Is any pause past its set end and not yet recorded as lifted? (read only)"""
    row = global_pause(session)
    if row is not None and row.paused and row.ends_at is not None and row.ends_at <= now:
        return True
    query = select(Account.id).where(col(Account.paused), col(Account.pause_ends_at) <= now)
    return session.exec(query).first() is not None


def lift_ended_pauses(session: Session, *, now: datetime) -> list[str]:
    """Record, as the system, every pause whose set end has come (the worker's beat runs
    this); they stopped holding at that instant anyway (`in_force`)."""
    lifted: list[str] = []
    row = global_pause(session)
    if row is not None and row.paused and row.ends_at is not None and row.ends_at <= now:
        row = _locked_global_pause(session)
        ended = row.ends_at
        row.paused, row.ends_at, row.lift_requested_by, row.lift_requested_at = (
            False,
            None,
            None,
            None,
        )
        session.add(row)
        _record_end(session, "publishing:all", ended, now)
        lifted.append("publishing:all")
    due = session.exec(
        select(Account).where(col(Account.paused), col(Account.pause_ends_at) <= now)
    ).all()
    for account in due:
        ended = account.pause_ends_at
        account.paused, account.pause_ends_at = False, None
        session.add(account)
        _record_end(session, f"account:{account.key}", ended, now)
        lifted.append(f"account:{account.key}")
    return lifted


def _record_end(session: Session, subject: str, ended: datetime | None, now: datetime) -> None:
    audit.record(
        session,
        actor=SYSTEM,
        action="publishing.resume",
        subject=subject,
        at=now,
        details={"automatic": True, "ends_at": ended.isoformat() if ended else None},
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
    if everywhere is not None and in_force(everywhere.paused, everywhere.ends_at, now):
        reasons.append(f"all publishing is paused (by {everywhere.paused_by})")
    if in_force(account.paused, account.pause_ends_at, now):
        reasons.append(f"{account.handle} is paused (by {account.paused_by})")
    window = active_blackout(current_map(session).config, account.key, now)
    if window is not None:
        reasons.append(f"blackout window '{window.name}' is in force")
    return reasons
