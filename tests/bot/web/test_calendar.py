"""The calendar: each account's week in its own local time, with what holds publishing back.

The clock stands at Tuesday 24 November 2026, 12:00 UTC (week 2026-W48)."""

from datetime import date, timedelta
from typing import Any

from sqlalchemy import event

from approvals.calendar import IsoWeek
from tests.bot.conftest import Cli
from tests.bot.web.conftest import Web
from tests.bot.web.published import approved, publish_due

ALICE = ("--as", "alice@example.org")


def _draft(
    cli: Cli, text: str, *, at: str | None, account: str = "@DeptNews", submit: bool = False
) -> int:
    args = ["draft", *ALICE, "-a", account, "--text", text]
    args += ["--at", at] if at else []
    args += ["--submit"] if submit else []
    return int(cli.json(*args)["id"])


def _calendar(web: Web, query: str) -> Any:
    page = web.client.get(f"/calendar?{query}")
    assert page.status_code == 200, page.text
    assert page.template.name == "pages/calendar.html"
    return page


def _days(page: Any, account: str) -> dict[date, list[tuple[int, str, str]]]:
    """(post, state, local time) per day of `account`'s week, as the page was given them."""
    (week,) = [a for a in page.context["cal"].accounts if a.handle == account]
    return {
        d.day: [(e.post_id, e.state, e.at.strftime("%H:%M %Z")) for e in d.entries]
        for d in week.days
    }


def test_an_officer_sees_the_weeks_posts_at_local_time_with_state_and_link(
    web: Web, cli: Cli
) -> None:
    submitted = _draft(cli, "Budget day coverage", at="2026-12-01 09:30", submit=True)
    drafted = _draft(cli, "Help line hours", at="2026-12-03 14:00", account="@DeptHelp")
    _draft(cli, "No time yet", at=None)
    _draft(cli, "The week after", at="2026-12-07 09:00")

    page = _calendar(web.sign_in("alice@example.org"), "account=%40DeptNews&week=2026-W49")
    days = _days(page, "@DeptNews")
    assert list(days) == IsoWeek(2026, 49).days
    assert days[date(2026, 12, 1)] == [(submitted, "submitted", "09:30 GMT")]
    assert sum(len(e) for e in days.values()) == 1, "only this account, only this week, timed"
    assert [a.handle for a in page.context["cal"].accounts] == ["@DeptNews"]
    assert f'href="/posts/{submitted}"' in page.text and "Budget day coverage" in page.text
    assert "Times in Europe/London" in page.text
    assert "week=2026-W48" in page.text and "week=2026-W50" in page.text, "previous and next"
    assert page.headers["cache-control"] == "no-store"

    everything = _calendar(web, "week=2026-W49")
    assert [a.handle for a in everything.context["cal"].accounts] == ["@DeptNews", "@DeptHelp"]
    assert _days(everything, "@DeptHelp")[date(2026, 12, 3)] == [(drafted, "draft", "14:00 GMT")]
    assert "No time yet" not in everything.text


def test_without_a_week_the_current_one_is_shown(web: Web) -> None:
    page = _calendar(web.sign_in("alice@example.org"), "")
    assert page.context["cal"].week == IsoWeek(2026, 48)
    assert page.context["cal"].selected is None


def test_a_published_post_is_shown_at_the_time_it_went_out(web: Web, cli: Cli) -> None:
    post = approved(cli, "Offices open again", at="2026-11-24 12:05")
    sandbox = cli.settings.model_copy(update={"sandbox": True})
    assert publish_due(cli, sandbox, after=timedelta(minutes=10)) == 1
    page = _calendar(web.sign_in("bob@example.org"), "account=@DeptHelp&week=2026-W48")
    assert _days(page, "@DeptHelp")[date(2026, 11, 24)] == [(post, "published", "12:10 GMT")]


def test_the_week_of_the_clocks_going_back_is_cut_at_local_midnight(web: Web, cli: Cli) -> None:
    """Week 2027-W43 runs from Monday 25 October (BST) to Sunday 31 October, when London's
    clocks go back at 02:00: the week is 169 hours long, and its Monday 00:30 is 23:30 UTC
    on the Sunday before."""
    before = _draft(cli, "Sunday night, the week before", at="2027-10-24 23:30")
    monday = _draft(cli, "Just after midnight", at="2027-10-25 00:30")
    sunday = _draft(cli, "Last thing on Sunday", at="2027-10-31 23:30")
    after = _draft(cli, "Monday after", at="2027-11-01 00:30")

    web.sign_in("alice@example.org")
    days = _days(_calendar(web, "account=@DeptNews&week=2027-W43"), "@DeptNews")
    assert days[date(2027, 10, 25)] == [(monday, "draft", "00:30 BST")]
    assert days[date(2027, 10, 31)] == [(sunday, "draft", "23:30 GMT")]
    assert sum(len(e) for e in days.values()) == 2
    assert _days(_calendar(web, "account=@DeptNews&week=2027-W42"), "@DeptNews")[
        date(2027, 10, 24)
    ] == [(before, "draft", "23:30 BST")]
    assert _days(_calendar(web, "account=@DeptNews&week=2027-W44"), "@DeptNews")[
        date(2027, 11, 1)
    ] == [(after, "draft", "00:30 GMT")]


def test_pauses_cover_the_days_from_when_they_began(web: Web, cli: Cli) -> None:
    cli.ok("pause", "@DeptNews", "--as", "sam@example.org", "--reason", "Incident")
    page = _calendar(web.sign_in("alice@example.org"), "week=2026-W48")
    (news, help_) = page.context["cal"].accounts
    (hold,) = news.holds
    assert (hold.kind, hold.title) == ("paused", "@DeptNews paused")
    assert "sam@example.org" in hold.detail and "Incident" in hold.detail
    assert [d.day.day for d in news.days if d.holds] == [24, 25, 26, 27, 28, 29]
    assert help_.holds == []
    assert "@DeptNews paused" in page.text

    cli.ok("pause", "--all", "--as", "sam@example.org", "--reason", "Everything stops")
    page = _calendar(web, "account=@DeptHelp&week=2026-W49")
    (week,) = page.context["cal"].accounts
    assert [h.kind for h in week.holds] == ["paused_all"]
    assert all(d.holds for d in week.days), "a pause lasts until resumed"


def test_a_pause_with_an_end_covers_the_days_up_to_its_end(web: Web, cli: Cli) -> None:
    cli.ok(
        "pause",
        "@DeptNews",
        "--as",
        "sam@example.org",
        "--reason",
        "Briefing",
        "--until",
        "2026-11-26 18:00",
    )
    page = _calendar(web.sign_in("alice@example.org"), "week=2026-W48")
    (news, _help) = page.context["cal"].accounts
    (hold,) = news.holds
    assert "until Thu 26 Nov 2026 18:00 GMT" in hold.detail
    assert [d.day.day for d in news.days if d.holds] == [24, 25, 26]


def test_a_blackout_window_covers_its_local_days_on_its_accounts_only(web: Web) -> None:
    """The example map's pre-election period: 20 April 00:00 to 7 May 22:00, London time,
    on @DeptNews."""
    web.sign_in("dana@example.org")
    first = _calendar(web, "week=2027-W16").context["cal"].accounts
    news, help_ = first
    assert [d.day.day for d in news.days if d.holds] == [20, 21, 22, 23, 24, 25]
    assert news.holds[0].title == "Blackout: Pre-election period (example)"
    assert "Tue 20 Apr 2027 00:00 BST" in news.holds[0].detail
    assert not any(d.holds for d in help_.days)
    (last,) = _calendar(web, "account=@DeptNews&week=2027-W18").context["cal"].accounts
    assert [d.day.day for d in last.days if d.holds] == [3, 4, 5, 6, 7]


def test_only_accounts_the_viewer_holds_a_right_on_are_offered_or_shown(web: Web) -> None:
    hana = _calendar(web.sign_in("hana@example.org"), "week=2026-W49")
    assert hana.context["cal"].choices == ["@DeptHelp"]
    assert [a.handle for a in hana.context["cal"].accounts] == ["@DeptHelp"]
    refused = web.client.get("/calendar?account=@DeptNews&week=2026-W49")
    assert refused.status_code == 403
    assert "holds no right on @DeptNews" in refused.text
    assert web.client.get("/calendar?account=@PermSecPersonal").status_code == 403
    assert web.client.get("/calendar?account=@Nobody").status_code == 404


def test_a_week_that_does_not_exist_is_refused_with_a_message(web: Web) -> None:
    web.sign_in("alice@example.org")
    for week, words in (("2026-W54", "2026 has no week 54"), ("next", "YYYY-Www")):
        page = web.client.get(f"/calendar?week={week}")
        assert page.status_code == 422
        assert words in page.text


def test_nobody_signed_in_is_sent_to_sign_in(web: Web) -> None:
    answer = web.client.get("/calendar?week=2026-W49", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")


def test_the_calendar_makes_no_query_per_post(web: Web, cli: Cli) -> None:
    engine = web.client.app.state.engine  # type: ignore[attr-defined]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    web.sign_in("alice@example.org")
    counts = []
    for n in (1, 12):
        for i in range(n):
            _draft(
                cli, f"Post {n}-{i}", at=f"2026-12-0{1 + i % 5} {10 + i}:00", account="@DeptHelp"
            )
        statements.clear()
        _calendar(web, "week=2026-W49")
        counts.append(len(statements))
    event.remove(engine, "before_cursor_execute", count)
    assert counts[0] == counts[1], counts
