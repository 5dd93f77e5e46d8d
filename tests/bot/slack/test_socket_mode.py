"""Socket Mode: with PRESSGATE_SLACK_APP_TOKEN set, the app opens a WebSocket to Slack
(slack_sdk's own SocketModeClient: `apps.connections.open` with the app token, then the
socket) and Slack's requests come over it, to the same handlers as over HTTP: each envelope
is acknowledged, then decided, and the person answered through response_url."""

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bot.web.app import create_app
from tests.bot.conftest import Cli, every_row
from tests.bot.slack.conftest import BOB, SAM, STRANGER, block_actions, slack_settings
from tests.bot.web.post_world import drafted
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.fake_socket_mode import FakeSocketMode


@pytest.fixture
def socket(cli: Cli, slack_fake: FakeSlack) -> Iterator[FakeSocketMode]:
    """The app running with Socket Mode on, connected to the fake Socket Mode endpoint."""
    with FakeSocketMode() as endpoint:
        slack_fake.socket_url = endpoint.url
        settings = slack_settings(
            cli.settings, slack_fake, slack_app_token=SecretStr(slack_fake.app_token)
        )
        app = create_app(settings, clock=cli.clock)
        with TestClient(app):
            endpoint.wait_connected()
            yield endpoint
            endpoint.hang_up()
        app.state.engine.dispose()
    assert app.state.socket_mode.connected is False, "stopped with the app"


def command(fake: FakeSlack, envelope_id: str, user: str, text: str) -> dict[str, object]:
    fields = {
        "command": "/pressgate",
        "text": text,
        "user_id": user,
        "channel_id": "C0DUTY0001",
        "response_url": fake.response_url(user),
        "trigger_id": "trigger-9",
    }
    return {
        "envelope_id": envelope_id,
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": fields,
    }


def test_a_command_over_socket_mode_is_acknowledged_then_done(
    socket: FakeSocketMode, slack_fake: FakeSlack, cli: Cli
) -> None:
    (opened,) = slack_fake.of("apps.connections.open")
    assert opened.token == slack_fake.app_token
    socket.send(command(slack_fake, "env-1", SAM, "pause @DeptNews Incident"))
    assert socket.wait_ack("env-1") == {"envelope_id": "env-1"}
    assert slack_fake.wait_for(1) == [
        "Paused publishing on @DeptNews: nothing goes out there until it is resumed."
    ]
    entry = json.loads(cli.ok("audit", "export").stdout.splitlines()[-1])
    assert entry["action"] == "publishing.pause"
    assert entry["details"] == {"reason": "Incident", "via": "slack"}


def test_a_click_over_socket_mode_approves(
    socket: FakeSocketMode, slack_fake: FakeSlack, cli: Cli
) -> None:
    post = drafted(cli, "--text", "Applications open on Monday.", "--submit")
    value = f"{post['id']}:{post['revision_hash']}"
    click = block_actions(BOB, "pressgate_approve", value, slack_fake.response_url(BOB))
    socket.send({"envelope_id": "env-2", "type": "interactive", "payload": click})
    assert socket.wait_ack("env-2") == {"envelope_id": "env-2"}
    assert slack_fake.wait_for(1)[0].startswith("You approved revision 1")
    assert cli.json("show", str(post["id"]))["approvals"] == ["bob@example.org"]


def test_an_unknown_user_over_socket_mode_changes_nothing(
    socket: FakeSocketMode, slack_fake: FakeSlack, cli: Cli
) -> None:
    before = every_row(cli)
    socket.send(command(slack_fake, "env-3", STRANGER, "pause all Panic"))
    socket.wait_ack("env-3")
    assert "pressgate does not know you" in slack_fake.wait_for(1)[0]
    assert every_row(cli) == before


def test_the_reject_modal_over_socket_mode_shows_errors_in_its_ack(
    socket: FakeSocketMode, slack_fake: FakeSlack, cli: Cli
) -> None:
    post = drafted(cli, "--text", "Applications open on Monday.", "--submit")
    view = {
        "callback_id": "pressgate_reject",
        "private_metadata": json.dumps({"post": post["id"], "hash": post["revision_hash"]}),
        "state": {"values": {"reason": {"reason": {"type": "plain_text_input", "value": " "}}}},
    }
    submission = {"type": "view_submission", "user": {"id": BOB}, "view": view}
    socket.send({"envelope_id": "env-4", "type": "interactive", "payload": submission})
    ack = socket.wait_ack("env-4")
    assert ack["payload"] == {
        "response_action": "errors",
        "errors": {"reason": "Say why the post is rejected: the author needs a reason to act on."},
    }
    assert cli.json("show", str(post["id"]))["state"] == "submitted"


def test_without_slack_the_app_still_serves_and_logs_no_token(
    cli: Cli, slack_fake: FakeSlack, caplog: pytest.LogCaptureFixture, debug_logging: None
) -> None:
    wrong = "xapp-1-A0PRESSGATE-0000-not-the-right-token"
    settings = slack_settings(cli.settings, slack_fake, slack_app_token=SecretStr(wrong))
    app = create_app(settings, clock=cli.clock)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        deadline = time.monotonic() + 5
        while not slack_fake.of("apps.connections.open") and time.monotonic() < deadline:
            time.sleep(0.01)
        tried = slack_fake.of("apps.connections.open")[0]
        assert tried.token == wrong
        assert app.state.socket_mode.connected is False
    app.state.engine.dispose()
    assert "Socket Mode: cannot reach Slack (SlackApiError)" in caplog.text
    assert "apps.connections.open" in caplog.text, "slack_sdk's own DEBUG lines are read too"
    assert wrong not in caplog.text and slack_fake.bot_token not in caplog.text
