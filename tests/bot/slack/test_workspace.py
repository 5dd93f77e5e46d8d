"""With PRESSGATE_SLACK_TEAM_ID set, pressgate answers only its own Slack workspace: the same
app installed in another workspace signs with the same secret, so a click or a command from
there is refused and changes nothing, whichever door (HTTP or Socket Mode) it came through."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

from bot.settings import Settings
from bot.slack.replies import SlackContext
from bot.slack.socket_mode import SocketMode
from bot.web.app import create_app
from tests.bot.conftest import Cli, every_row
from tests.bot.slack.conftest import BOB, SAM, Slack, block_actions, slack_settings
from tests.bot.web.post_world import drafted
from tests.fakes.fake_slack import FakeSlack

OURS, THEIRS = "T0DEPT001", "T0ELSEWHERE"


@pytest.fixture
def ours_only(cli: Cli, slack_fake: FakeSlack) -> Iterator[Slack]:
    settings = slack_settings(cli.settings, slack_fake, slack_team_id=OURS)
    app = create_app(settings, clock=cli.clock)
    with TestClient(app) as client:
        yield Slack(client, slack_fake, cli.clock)
    app.state.engine.dispose()


def _from_elsewhere(fields: dict[str, Any]) -> dict[str, Any]:
    return {**fields, "team": {"id": THEIRS, "domain": "elsewhere"}} | {
        "user": {**fields["user"], "team_id": THEIRS}
    }


def test_a_command_from_our_workspace_is_answered(ours_only: Slack) -> None:
    ours_only.command(SAM, "pause @DeptNews Incident under way")
    assert ours_only.fake.answers()[0].startswith("Paused publishing on @DeptNews")


def test_a_command_from_another_workspace_is_refused_and_changes_nothing(
    ours_only: Slack, cli: Cli
) -> None:
    before = every_row(cli)
    answer = ours_only.signed(
        "/slack/commands",
        {"team_id": THEIRS, "user_id": SAM, "command": "/pressgate", "text": "pause all Now"},
    )
    assert answer.status_code == 200
    assert answer.json() == {
        "response_type": "ephemeral",
        "text": "pressgate answers only the Slack workspace it serves; nothing was recorded.",
    }
    assert every_row(cli) == before
    assert ours_only.fake.calls == []


def test_a_click_from_another_workspace_approves_nothing(ours_only: Slack, cli: Cli) -> None:
    post = drafted(cli, "--text", "Applications open on Monday.", "--submit")
    before = every_row(cli)
    payload = block_actions(
        BOB, "pressgate_approve", f"{post['id']}:{post['revision_hash']}", "http://unused/"
    )
    answer = ours_only.signed(
        "/slack/interactions", {"payload": json.dumps(_from_elsewhere(payload))}
    )
    assert answer.status_code == 200 and answer.content == b""
    assert every_row(cli) == before
    ours_only.approve(BOB, post)  # the same click from our workspace counts
    assert cli.json("show", str(post["id"]))["approvals"] == ["bob@example.org"]


def test_socket_mode_refuses_another_workspace_too(cli: Cli, slack_fake: FakeSlack) -> None:
    settings = slack_settings(
        cli.settings, slack_fake, slack_team_id=OURS, slack_app_token=SecretStr("xapp-1-A0-1-abc")
    )
    ctx = SlackContext(engine=cli.engine, settings=settings, clock=cli.clock)
    before = every_row(cli)
    fields = {"team_id": THEIRS, "user_id": SAM, "text": "pause all Now"}
    reply = SocketMode(ctx).reply_to("slash_commands", fields)
    assert reply.ack == {
        "response_type": "ephemeral",
        "text": "pressgate answers only the Slack workspace it serves; nothing was recorded.",
    }
    assert reply.then is None
    assert every_row(cli) == before


@pytest.mark.parametrize("team", ["", "dept", "U0BOB0001", "T0 DEPT"])
def test_a_team_id_that_is_not_one_is_a_settings_error(team: str) -> None:
    with pytest.raises(ValidationError, match="slack_team_id"):
        Settings(slack_team_id=team)
