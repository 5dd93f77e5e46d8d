"""The publishing calendar: each account's posts over one ISO week, in the account's own time.

A post belongs to the day its time falls on in the account's zone, not in UTC: 00:30 on a
Monday in London in summer is 23:30 on Sunday in UTC, and the press office plans by the
clock on its wall. So the week's bounds are computed per zone (a week with a clock change
is 167 or 169 hours long) and the posts are found in one query for all the accounts shown,
never one per post. What holds publishing back (an account's pause, the global pause, the
map's blackout windows) is laid over the days it covers, so a planner sees at a glance that
Thursday's post will not go out.

Which posts: those with a time that are still on their way (draft, submitted, approved,
queued, publishing), at their scheduled time, and published ones at the time they went out.
Rejected, withdrawn, failed and taken-down posts are not planned output and are left off.
"""

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from approvals.config import DEFAULT_TIMEZONE, Action, BlackoutConfig
from approvals.delivery.controls import global_pause, window_utc
from approvals.errors import InvalidInput, PermissionDenied
from approvals.inbox import rows
from approvals.map_store import current_map, get_account
from approvals.models import Account, GlobalPause, Person, Post, PostState

S = PostState
ON_THEIR_WAY = frozenset({S.DRAFT, S.SUBMITTED, S.APPROVED, S.QUEUED, S.PUBLISHING})
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class IsoWeek:
    """An ISO 8601 week (Monday to Sunday), written `2026-W49` as in the page's URL."""

    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> "IsoWeek":
        match = _WEEK.match(text.strip())
        if match is None:
            raise InvalidInput(
                f"week {text!r} is not understood; write it as YYYY-Www, e.g. 2026-W49"
            )
        year, week = int(match.group(1)), int(match.group(2))
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            raise InvalidInput(f"week {text!r} does not exist: {year} has no week {week}") from None
        return cls(year, week)

    @classmethod
    def containing(cls, day: date) -> "IsoWeek":
        year, week, _ = day.isocalendar()
        return cls(year, week)

    @classmethod
    def current(cls, now: datetime, zone: str = DEFAULT_TIMEZONE) -> "IsoWeek":
        return cls.containing(now.astimezone(ZoneInfo(zone)).date())

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def days(self) -> list[date]:
        return [self.monday + timedelta(days=n) for n in range(7)]

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def previous(self) -> "IsoWeek":
        return IsoWeek.containing(self.monday - timedelta(days=7))

    @property
    def next(self) -> "IsoWeek":
        return IsoWeek.containing(self.monday + timedelta(days=7))


def day_start(day: date, zone: str) -> datetime:
    """The first instant of `day` in `zone`, in UTC.

    Where midnight is skipped by a clock change, `fold=0` reads it with the offset before
    the change, which is the instant the day begins; where it happens twice, the first.
    """
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def week_bounds(week: IsoWeek, zone: str) -> tuple[datetime, datetime]:
    """[start, end) of the week in `zone`, as UTC instants."""
    return day_start(week.monday, zone), day_start(week.monday + timedelta(days=7), zone)


@dataclass(frozen=True)
class Entry:
    """A post on the calendar at its local time."""

    post_id: int
    state: str
    at: datetime  # in the account's zone
    text: str  # the first part
    parts: int
    author: str


@dataclass(frozen=True)
class Hold:
    """Something that stops publishing on some days of the week, in words for the page."""

    kind: str  # "paused_all", "paused" or "blackout"
    title: str
    detail: str
    days: frozenset[date]


@dataclass(frozen=True)
class Day:
    day: date
    entries: list[Entry]
    holds: list[Hold]


@dataclass(frozen=True)
class AccountWeek:
    handle: str
    timezone: str
    days: list[Day]
    holds: list[Hold]  # every hold that covers at least one day of this week


@dataclass(frozen=True)
class Calendar:
    week: IsoWeek
    choices: list[str]  # handles of the corporate accounts the viewer holds any right on
    selected: str | None  # one of `choices`, or None for all of them
    accounts: list[AccountWeek]


def visible_accounts(session: Session, person: Person) -> list[Account]:
    """Corporate accounts on which the map gives `person` any right at all, in map order."""
    pmap = current_map(session)
    handles = [
        a.handle
        for a in pmap.corporate_accounts()
        if any(pmap.can(person.email, action, a.handle) for action in Action)
    ]
    found = {
        a.key: a for a in session.exec(select(Account).where(col(Account.active).is_(True))).all()
    }
    return [found[h[1:].lower()] for h in handles if h[1:].lower() in found]


def calendar(
    session: Session, *, viewer: Person, week: IsoWeek, account: str | None = None
) -> Calendar:
    """The week for one account (`@handle`) or for all the viewer's accounts (None).

    An account the viewer holds no right on is refused: the calendar shows unpublished
    words, which are the business of the people the map names for that account.
    """
    mine = visible_accounts(session, viewer)
    shown = mine
    selected = None
    if account is not None:
        wanted = get_account(session, account)  # NotFound for an account not in the map
        if wanted.key not in {a.key for a in mine}:
            raise PermissionDenied(
                f"{viewer.email} holds no right on {wanted.handle}, so its calendar is not shown"
            )
        shown, selected = [wanted], wanted.handle
    entries = _entries(session, shown, week)
    pause = global_pause(session)
    blackouts = current_map(session).config.blackouts
    weeks = [
        _account_week(account_row, week, entries.get(account_row.id or 0, []), pause, blackouts)
        for account_row in shown
    ]
    return Calendar(week, [a.handle for a in mine], selected, weeks)


def _entries(session: Session, accounts: list[Account], week: IsoWeek) -> dict[int, list[Entry]]:
    """Every account's posts in the week, in four queries whatever their number."""
    by_zone: dict[str, list[int]] = defaultdict(list)
    for account in accounts:
        assert account.id is not None
        by_zone[account.timezone].append(account.id)
    if not by_zone:
        return {}
    windows: list[ColumnElement[bool]] = []
    for zone, ids in by_zone.items():
        start, end = week_bounds(week, zone)
        windows.append(
            and_(
                col(Post.account_id).in_(ids),
                or_(
                    and_(
                        col(Post.state).in_(ON_THEIR_WAY),
                        col(Post.scheduled_at) >= start,
                        col(Post.scheduled_at) < end,
                    ),
                    and_(
                        col(Post.state) == S.PUBLISHED,
                        col(Post.published_at) >= start,
                        col(Post.published_at) < end,
                    ),
                ),
            )
        )
    posts = list(session.exec(select(Post).where(or_(*windows))).all())
    zones = {a.id: a.timezone for a in accounts}
    listed = {row.id: row for row in rows(session, posts)}
    found: dict[int, list[Entry]] = defaultdict(list)
    for post in posts:
        assert post.id is not None
        when = post.published_at if post.state == S.PUBLISHED else post.scheduled_at
        assert when is not None
        row = listed[post.id]
        local = when.astimezone(ZoneInfo(zones[post.account_id]))
        found[post.account_id].append(
            Entry(post.id, post.state.value, local, row.text, row.parts, row.author)
        )
    for listed_entries in found.values():
        listed_entries.sort(key=lambda e: (e.at, e.post_id))
    return found


def _account_week(
    account: Account,
    week: IsoWeek,
    entries: list[Entry],
    pause: GlobalPause | None,
    blackouts: list[BlackoutConfig],
) -> AccountWeek:
    zone = ZoneInfo(account.timezone)
    holds: list[Hold] = []
    if pause is not None and pause.paused:
        holds.append(
            _pause_hold(
                "paused_all",
                "All publishing paused",
                pause.paused_by,
                pause.paused_at,
                pause.reason,
                week,
                account.timezone,
                pause.ends_at,
            )
        )
    if account.paused:
        holds.append(
            _pause_hold(
                "paused",
                f"{account.handle} paused",
                account.paused_by,
                account.paused_at,
                account.pause_reason,
                week,
                account.timezone,
                account.pause_ends_at,
            )
        )
    for window in blackouts:
        if not window.covers(account.key):
            continue
        start, end = window_utc(window)
        covered = frozenset(
            d
            for d in week.days
            if start < day_start(d + timedelta(days=1), account.timezone)
            and end > day_start(d, account.timezone)
        )
        shown = f"{_shown(start, zone)} to {_shown(end, zone)}"
        holds.append(Hold("blackout", f"Blackout: {window.name}", shown, covered))
    holds = [h for h in holds if h.days]
    by_day: dict[date, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_day[entry.at.date()].append(entry)
    days = [Day(d, by_day.get(d, []), [h for h in holds if d in h.days]) for d in week.days]
    return AccountWeek(account.handle, account.timezone, days, holds)


def _pause_hold(
    kind: str,
    title: str,
    by: str | None,
    since: datetime | None,
    reason: str | None,
    week: IsoWeek,
    zone: str,
    until: datetime | None = None,
) -> Hold:
    """A pause lasts until someone resumes, or until its set end: it covers every day from
    the one it began to the one it ends."""
    started = since.astimezone(ZoneInfo(zone)).date() if since is not None else None
    ends = until.astimezone(ZoneInfo(zone)).date() if until is not None else None
    days = frozenset(
        d for d in week.days if (started is None or d >= started) and (ends is None or d <= ends)
    )
    when = f" since {_shown(since, ZoneInfo(zone))}" if since else ""
    lasts = f"until {_shown(until, ZoneInfo(zone))}" if until else "until resumed"
    detail = f"by {by or 'someone'}{when}, {lasts}" + (f": {reason}" if reason else "")
    return Hold(kind, title, detail, days)


def _shown(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%a %d %b %Y %H:%M %Z")
