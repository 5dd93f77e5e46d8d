"""Times are typed in the account's zone and stored in UTC; clock changes are never guessed."""

from datetime import UTC, datetime

import pytest

from approvals.errors import InvalidInput
from approvals.schedule import local_to_utc, parse_local_time, show_local

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_london_winter_time_is_utc() -> None:
    assert parse_local_time("2026-12-01 09:00", zone="Europe/London", now=NOW) == datetime(
        2026, 12, 1, 9, 0, tzinfo=UTC
    )


def test_london_summer_time_is_an_hour_ahead() -> None:
    assert parse_local_time("2027-06-01T09:00", zone="Europe/London", now=NOW) == datetime(
        2027, 6, 1, 8, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("0001-01-01 00:00", "Asia/Tokyo"),
        ("9999-12-31 23:59", "America/New_York"),
        ("0001-01-01T00:00+05:00", "Europe/London"),
    ],
)
def test_a_time_with_no_utc_instant_is_bad_input_not_a_crash(text: str, zone: str) -> None:
    with pytest.raises(InvalidInput, match="is out of range; give a time in the coming years"):
        parse_local_time(text, zone=zone, now=NOW)


def test_the_earliest_time_there_is_is_in_the_past_seen_from_any_zone() -> None:
    with pytest.raises(InvalidInput, match=r"\(1-01-01 00:00 UTC\) is in the past"):
        parse_local_time("0001-01-01T00:00+00:00", zone="America/New_York", now=NOW)


def test_another_accounts_zone_is_honoured() -> None:
    assert parse_local_time("2026-12-01 09:00", zone="America/New_York", now=NOW) == datetime(
        2026, 12, 1, 14, 0, tzinfo=UTC
    )


def test_a_time_skipped_by_the_clocks_going_forward_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"2027-03-28 01:30 does not exist in Europe/London"):
        parse_local_time("2027-03-28 01:30", zone="Europe/London", now=NOW)


def test_a_time_repeated_by_the_clocks_going_back_is_refused_with_both_readings() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_local_time("2027-10-31 01:30", zone="Europe/London", now=NOW)
    message = str(caught.value)
    assert "happens twice in Europe/London" in message
    assert "00:30 UTC and 01:30 UTC" in message
    assert "2027-10-31T01:30+01:00" in message


def test_an_explicit_offset_resolves_an_ambiguous_time() -> None:
    assert parse_local_time("2027-10-31T01:30+00:00", zone="Europe/London", now=NOW) == datetime(
        2027, 10, 31, 1, 30, tzinfo=UTC
    )


def test_the_hours_either_side_of_a_clock_change_are_fine() -> None:
    assert local_to_utc(datetime(2027, 3, 28, 0, 59), zone="Europe/London") == datetime(
        2027, 3, 28, 0, 59, tzinfo=UTC
    )
    assert local_to_utc(datetime(2027, 3, 28, 2, 0), zone="Europe/London") == datetime(
        2027, 3, 28, 1, 0, tzinfo=UTC
    )


@pytest.mark.parametrize("text", ["2026-11-24 11:59", "2026-11-24 12:00", "2020-01-01 00:00"])
def test_times_not_in_the_future_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="is in the past"):
        parse_local_time(text, zone="Europe/London", now=NOW)


@pytest.mark.parametrize("text", ["tomorrow 9am", "2026-13-01 09:00", "01/12/2026 09:00", ""])
def test_unreadable_times_say_the_expected_format(text: str) -> None:
    with pytest.raises(InvalidInput, match="YYYY-MM-DD HH:MM"):
        parse_local_time(text, zone="Europe/London", now=NOW)


def test_times_are_shown_in_the_accounts_zone() -> None:
    assert (
        show_local(datetime(2027, 6, 1, 8, 0, tzinfo=UTC), "Europe/London")
        == "2027-06-01 09:00 BST"
    )
    assert show_local(None, "Europe/London") == "unscheduled"
