"""`/pressgate` in Slack: pause, resume, status and check, with the rights the map gives the
person behind the Slack user; answered to them alone; refusals change nothing."""

import json
from typing import Any

from tests.bot.conftest import Cli, every_row
from tests.bot.slack.conftest import BOB, SAM, STRANGER, Slack
from tests.bot.web.post_world import drafted


def last_entry(cli: Cli) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(cli.ok("audit", "export").stdout.splitlines()[-1])
    return entry


def test_pause_stops_an_account_and_is_audited_via_slack(slack: Slack, cli: Cli) -> None:
    answer = slack.command(SAM, "pause @DeptNews Incident under way")
    assert answer.status_code == 200 and answer.content == b""
    assert slack.fake.answers() == [
        "Paused publishing on @DeptNews: nothing goes out there until it is resumed."
    ]
    (call,) = slack.fake.of("response")
    assert call.body["response_type"] == "ephemeral"
    entry = last_entry(cli)
    assert (entry["action"], entry["actor"], entry["subject"]) == (
        "publishing.pause",
        "sam@example.org",
        "account:deptnews",
    )
    assert entry["details"] == {"reason": "Incident under way", "via": "slack"}


def test_pause_all_and_resume_all(slack: Slack, cli: Cli) -> None:
    slack.command(SAM, "pause all Election called")
    assert "every account" in slack.fake.answers()[-1]
    assert last_entry(cli)["subject"] == "publishing:all"
    slack.command(SAM, "resume all")
    assert slack.fake.answers()[-1].startswith("Resume of every account requested")
    assert last_entry(cli)["action"] == "publishing.resume_requested"
    slack.command("U0LEE0001", "resume all")
    assert slack.fake.answers()[-1] == (
        "Resumed publishing on every account: posts that fell due meanwhile go out in order."
    )
    assert last_entry(cli)["action"] == "publishing.resume"


def test_a_pause_without_a_reason_is_refused_and_changes_nothing(slack: Slack, cli: Cli) -> None:
    before = every_row(cli)
    slack.command(SAM, "pause @DeptNews")
    slack.command(SAM, "pause")
    assert slack.fake.answers() == [
        "Nothing was recorded: say why: /pressgate pause @DeptNews &lt;reason&gt; (it is audited).",
        "Nothing was recorded: say what to pause: /pressgate pause @account reason (or all).",
    ]
    assert every_row(cli) == before


def test_pause_by_someone_without_the_right_is_refused(slack: Slack, cli: Cli) -> None:
    before = every_row(cli)
    slack.command(BOB, "pause @DeptNews I think it is wrong")
    slack.command(STRANGER, "pause all Panic")
    assert slack.fake.answers()[0] == (
        "Nothing was recorded: bob@example.org may not pause on @DeptNews."
    )
    assert "pressgate does not know you (Slack user U0NOBODY1)" in slack.fake.answers()[1]
    assert every_row(cli) == before


def test_pause_of_an_unknown_or_personal_account_is_refused(slack: Slack, cli: Cli) -> None:
    before = every_row(cli)
    slack.command(SAM, "pause @Nobody reason")
    slack.command(SAM, "pause @PermSecPersonal reason")
    assert slack.fake.answers() == [
        "Nothing was recorded: account @Nobody is not in the permission map.",
        "Nothing was recorded: @PermSecPersonal is a personal account; nothing publishes to it.",
    ]
    assert every_row(cli) == before


def test_status_shows_what_goes_out_next_and_what_is_paused(slack: Slack, cli: Cli) -> None:
    soon = drafted(cli, "--text", "Our <b>new</b> office & more", "--at", "2026-12-01 09:30")
    later = drafted(cli, "--text", "Later news", "--at", "2026-12-02 10:00", "--submit")
    drafted(cli, "--text", "No time yet", "--submit")
    cli.ok("submit", str(soon["id"]), "--as", "alice@example.org")
    slack.command(SAM, "pause @DeptHelp Checking the links")
    before = every_row(cli)
    slack.command(SAM, "status")
    text = slack.fake.answers()[-1]
    base = "http://127.0.0.1:8000"
    assert text.splitlines() == [
        "*@DeptHelp is paused* (by sam@example.org: Checking the links).",
        "*Due next:*",
        f"• 2026-12-01 09:30 GMT @DeptNews <{base}/posts/{soon['id']}|post {soon['id']}>, "
        "submitted (0 of 2 approvals): Our &lt;b&gt;new&lt;/b&gt; office &amp; more",
        f"• 2026-12-02 10:00 GMT @DeptNews <{base}/posts/{later['id']}|post {later['id']}>, "
        "submitted (0 of 2 approvals): Later news",
    ]
    assert every_row(cli) == before


def test_status_for_someone_the_map_lacks_is_refused(slack: Slack, cli: Cli) -> None:
    slack.command(STRANGER, "status")
    assert "pressgate does not know you" in slack.fake.answers()[0]


def test_check_runs_the_policy_and_stores_nothing(slack: Slack, cli: Cli) -> None:
    before = every_row(cli)
    slack.command(BOB, "check Call me on 07700 900123 #one #two #three")
    text = slack.fake.answers()[0]
    assert text.startswith("40 of 280 characters\n")
    assert "*Blocks publishing*: " in text and "`personal_data.uk_phone`" in text
    assert "`limits.hashtags`" in text
    slack.command(BOB, "check All fine here.\n---\nAnd here.")
    assert slack.fake.answers()[1] == (
        "Part 1: 14 of 280 characters\nPart 2: 9 of 280 characters\nNo policy findings."
    )
    assert every_row(cli) == before


def test_check_for_someone_the_map_lacks_is_refused_without_findings(
    slack: Slack, cli: Cli
) -> None:
    """A guest in the workspace may not probe which handles are staff's own accounts."""
    slack.command(STRANGER, "check Thanks @alice_ahmed")
    (answer,) = slack.fake.answers()
    assert "pressgate does not know you" in answer
    assert "personal" not in answer and "alice_ahmed" not in answer


def test_an_unknown_or_empty_command_answers_with_the_usage(slack: Slack, cli: Cli) -> None:
    before = every_row(cli)
    slack.command(SAM, "")
    slack.command(SAM, "explode <!channel>")
    first, second = slack.fake.answers()
    assert first.startswith("*/pressgate pause @account reason*")
    assert second.startswith("pressgate has no command `explode`. */pressgate pause")
    assert "<!channel>" not in second
    assert every_row(cli) == before


def test_an_unsigned_command_is_refused_and_changes_nothing(slack: Slack, cli: Cli) -> None:
    before = every_row(cli)
    answer = slack.command(SAM, "pause all Panic", signature="v0=forged")
    assert answer.status_code == 401
    assert slack.fake.calls == []
    assert every_row(cli) == before
