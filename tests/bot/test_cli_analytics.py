"""`pressgate show` says what publishing costs; `pressgate analytics collect` and `digest`
as a user runs them (the export is tested with the page: tests/bot/web/test_analytics_page.py)."""

from tests.bot.conftest import Cli

ALICE = ("--as", "alice@example.org")


def test_show_says_what_publishing_the_post_will_cost(cli: Cli) -> None:
    linked = cli.json("draft", *ALICE, "-a", "@DeptNews", "--text", "Read www.gov.uk/report")
    plain = cli.json("draft", *ALICE, "-a", "@DeptNews", "--text", "Offices open at 9.")
    assert (
        "publishing costs (X): contains a link: $0.20" in cli.ok("show", str(linked["id"])).stdout
    )
    assert cli.json("show", str(plain["id"]))["publish_cost"] == "no link: $0.015"


def test_collect_without_x_reads_nothing_and_says_why(cli: Cli) -> None:
    out = cli.ok("analytics", "collect").stdout
    assert "@DeptNews: not connected to X" in out


def test_the_digest_preview_is_last_weeks_figures(cli: Cli) -> None:
    out = cli.ok("analytics", "digest", "--as", "dana@example.org", "--day", "2026-11-30").stdout
    assert out.splitlines()[0] == "pressgate analytics, 2026-11-23 to 2026-11-29 (all accounts)"
    refused = cli("analytics", "digest", "--as", "alice@example.org")
    assert refused.exit_code == 1
    assert "alice@example.org may not view_analytics on any account" in refused.stderr
