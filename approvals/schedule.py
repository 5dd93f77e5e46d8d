"""Turning a time a person types, in their zone, into the UTC instant we store.

Clock changes make some local times impossible (01:30 on the last Sunday of March in
London) and others ambiguous (01:30 on the last Sunday of October happens twice). Guessing
would publish an hour early or late, so both are refused with a message that says why.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from approvals.errors import InvalidInput

_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def parse_local_time(text: str, *, zone: str, now: datetime) -> datetime:
    """Parse `YYYY-MM-DD HH:MM` as wall-clock time in `zone`; return an aware UTC datetime.

    An explicit offset (`2026-03-29T09:00+01:00`) is taken as given. Times that are not in
    the future are refused: a schedule in the past would publish at once, unannounced.
    """
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = _parse_plain(value)
    try:
        if parsed.tzinfo is not None:
            instant = parsed.astimezone(UTC)
        else:
            instant = local_to_utc(parsed, zone=zone)
    except OverflowError:  # year 1 east of Greenwich, or 9999 west of it, has no UTC instant
        raise InvalidInput(
            f"time {value!r} is out of range; give a time in the coming years"
        ) from None
    if instant <= now:
        try:
            shown = instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")
        except OverflowError:  # the first instant of year 1, seen from west of Greenwich
            shown = instant.strftime("%Y-%m-%d %H:%M UTC")
        raise InvalidInput(f"time {value!r} ({shown}) is in the past; give a future time")
    return instant


def _parse_plain(value: str) -> datetime:
    for fmt in _FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise InvalidInput(f"time {value!r} is not understood; write it as YYYY-MM-DD HH:MM")


def local_to_utc(naive: datetime, *, zone: str) -> datetime:
    tz = ZoneInfo(zone)
    early = naive.replace(tzinfo=tz, fold=0)
    late = naive.replace(tzinfo=tz, fold=1)
    if early.utcoffset() != late.utcoffset():
        shown = naive.strftime("%Y-%m-%d %H:%M")
        round_trip = early.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        if round_trip != naive:
            raise InvalidInput(
                f"{shown} does not exist in {zone}: the clocks go forward then; "
                "choose a time outside the skipped hour"
            )
        first = early.astimezone(UTC).strftime("%H:%M UTC")
        second = late.astimezone(UTC).strftime("%H:%M UTC")
        raise InvalidInput(
            f"{shown} happens twice in {zone} (clocks go back: {first} and {second}); "
            "give the time with an explicit offset, e.g. "
            f"{early.isoformat(timespec='minutes')}"
        )
    return early.astimezone(UTC)


def show_local(instant: datetime | None, zone: str) -> str:
    if instant is None:
        return "unscheduled"
    return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")
