"""Slack gives up on a request it has not had an answer to in 3 seconds. pressgate answers at
once and decides afterwards, so the answer is in time even when the post is locked by
another decision and Slack itself is slow to take the result. Measured against a real
server on loopback, with a wide margin: the point is "not waiting", not a benchmark."""

import time

import httpx
import pytest

from approvals.db import session_scope
from approvals.workflow import lock_post
from bot.web.app import create_app
from tests.bot.conftest import Cli
from tests.bot.slack.conftest import BOB, SAM, Slack, slack_settings
from tests.bot.web.conftest import serve
from tests.bot.web.post_world import drafted
from tests.fakes.fake_slack import FakeSlack

SLACK_LIMIT = 3.0
HELD = 4.0  # seconds the post stays locked, and Slack takes to answer: longer than the limit


@pytest.mark.slow
def test_clicks_and_commands_are_answered_within_3_seconds(cli: Cli, slack_fake: FakeSlack) -> None:
    post = drafted(cli, "--text", "Applications open on Monday.", "--submit")
    slack_fake.delay = HELD
    app = create_app(slack_settings(cli.settings, slack_fake), clock=cli.clock)
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        door = Slack(http, slack_fake, cli.clock)
        with session_scope(cli.engine) as other:  # another decision holds the post
            lock_post(other, post["id"])
            started = time.monotonic()
            clicked = door.approve(BOB, post)
            click_took = time.monotonic() - started
            time.sleep(HELD)
        started = time.monotonic()
        commanded = door.command(SAM, "status")
        command_took = time.monotonic() - started
        told = slack_fake.wait_for(2, timeout=4 * HELD)
    app.state.engine.dispose()
    assert clicked.status_code == 200 and click_took < SLACK_LIMIT, click_took
    assert commanded.status_code == 200 and command_took < SLACK_LIMIT, command_took
    assert any(t.startswith("You approved revision 1") for t in told), "decided once free"
    print(f"\nclick answered in {click_took:.3f} s, command in {command_took:.3f} s")
