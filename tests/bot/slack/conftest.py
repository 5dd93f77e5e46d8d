"""Slack's requests to pressgate, made as Slack makes them: a form-encoded body (`payload=`
JSON for clicks and modals, the command's fields for `/pressgate`), signed with the app's
signing secret (`v0=` HMAC-SHA256 over `v0:{timestamp}:{raw body}`), sent to the real app.
What pressgate calls back (views.open, response_url, …) lands on the fake Slack on
loopback (`tests.fakes.fake_slack`)."""

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import SecretStr

from approvals.clock import FrozenClock
from bot.settings import Settings
from bot.web.app import create_app
from tests.bot.conftest import Cli
from tests.bot.publishing_world import SECRET
from tests.fakes.fake_slack import FakeSlack

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # the format of Slack's (hex, 32)
# Slack user ids of the example map (deploy/pressgate.example.toml).
ALICE, BOB, CAROL, HANA, SAM = "U0ALICE01", "U0BOB0001", "U0CAROL01", "U0HANA001", "U0SAM0001"
STRANGER = "U0NOBODY1"


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Exactly what Slack sends in X-Slack-Signature."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slack_settings(base: Settings, fake: FakeSlack, **changes: Any) -> Settings:
    return base.model_copy(
        update={
            "slack_signing_secret": SecretStr(SIGNING_SECRET),
            "slack_bot_token": SecretStr(fake.bot_token),
            "slack_api_url": fake.base_url,
            "secret_key": SecretStr(SECRET),
            **changes,
        }
    )


@dataclass
class Slack:
    """Slack as pressgate sees it: signed requests in, recorded calls out."""

    client: httpx.Client  # the in-process TestClient, or a client of a real server
    fake: FakeSlack
    clock: FrozenClock

    def signed(
        self,
        path: str,
        fields: dict[str, str],
        *,
        at: datetime | None = None,
        secret: str = SIGNING_SECRET,
        signature: str | None = None,
    ) -> Response:
        body = urlencode(fields).encode()
        timestamp = str(int((at or self.clock.now()).timestamp()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": (
                slack_signature(secret, timestamp, body) if signature is None else signature
            ),
        }
        return self.client.post(path, content=body, headers=headers)

    def click(self, user: str, action_id: str, value: str, **kwargs: Any) -> Response:
        """A button in a request message, clicked in the approvals channel."""
        payload = block_actions(user, action_id, value, self.fake.response_url(user))
        return self.signed("/slack/interactions", {"payload": json.dumps(payload)}, **kwargs)

    def approve(self, user: str, post: dict[str, Any], **kwargs: Any) -> Response:
        value = f"{post['id']}:{post['revision_hash']}"
        return self.click(user, "pressgate_approve", value, **kwargs)

    def submit_view(self, user: str, view: dict[str, Any], reason: str) -> Response:
        """The reject modal sent back with `reason` typed into it."""
        typed = {"type": "plain_text_input", "value": reason}
        payload = {
            "type": "view_submission",
            "team": {"id": "T0DEPT001", "domain": "dept"},
            "user": {"id": user, "team_id": "T0DEPT001"},
            "api_app_id": "A0PRESSGATE",
            "trigger_id": "trigger-2",
            "view": {
                "id": "V0MODAL01",
                "type": "modal",
                "callback_id": view["callback_id"],
                "private_metadata": view["private_metadata"],
                "state": {"values": {"reason": {"reason": typed}}},
            },
        }
        return self.signed("/slack/interactions", {"payload": json.dumps(payload)})

    def command(self, user: str, text: str, **kwargs: Any) -> Response:
        fields = {
            "token": "legacy-verification-token",
            "team_id": "T0DEPT001",
            "team_domain": "dept",
            "channel_id": "C0DUTY0001",
            "channel_name": "duty",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/pressgate",
            "text": text,
            "api_app_id": "A0PRESSGATE",
            "response_url": self.fake.response_url(user),
            "trigger_id": "trigger-3",
        }
        return self.signed("/slack/commands", fields, **kwargs)


def block_actions(user: str, action_id: str, value: str, response_url: str) -> dict[str, Any]:
    """A `block_actions` payload as Slack sends it for a button in a channel message."""
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T0DEPT001"},
        "api_app_id": "A0PRESSGATE",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": "1764000000.000100",
            "channel_id": "C0PRESS01",
        },
        "trigger_id": "trigger-1",
        "team": {"id": "T0DEPT001", "domain": "dept"},
        "channel": {"id": "C0PRESS01", "name": "press-approvals"},
        "message": {"type": "message", "ts": "1764000000.000100", "text": "Approval request"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "decide",
                "text": {"type": "plain_text", "text": "Approve"},
                "value": value,
                "type": "button",
                "action_ts": "1764000010.000200",
            }
        ],
    }


@pytest.fixture
def slack_fake() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def slack(cli: Cli, slack_fake: FakeSlack) -> Iterator[Slack]:
    """The app over the `cli` fixture's database, with Slack set up against the fake."""
    app = create_app(slack_settings(cli.settings, slack_fake), clock=cli.clock)
    with TestClient(app) as client:
        yield Slack(client, slack_fake, cli.clock)
    app.state.engine.dispose()


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
