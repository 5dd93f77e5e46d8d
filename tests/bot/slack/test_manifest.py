"""The Slack app manifest in deploy/ points Slack at the routes pressgate serves, asks for
the scopes it uses, and leaves Socket Mode off until an app token is set."""

from typing import Any
from urllib.parse import urlsplit

import yaml
from fastapi.testclient import TestClient

from bot.settings import Settings
from bot.slack.commands import USAGE
from bot.web.app import create_app
from bot.web.oidc import CALLBACK
from bot.web.slack import NOT_SET_UP
from tests.factories import REPO

MANIFEST = REPO / "deploy" / "slack-manifest.yaml"


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return loaded


def test_the_manifest_points_slack_at_the_routes_pressgate_serves() -> None:
    found = manifest()
    (command,) = found["features"]["slash_commands"]
    assert command["command"] == "/pressgate"
    assert urlsplit(command["url"]).path == "/slack/commands"
    interactivity = found["settings"]["interactivity"]
    assert interactivity["is_enabled"] is True
    assert urlsplit(interactivity["request_url"]).path == "/slack/interactions"
    (redirect,) = found["oauth_config"]["redirect_urls"]
    assert urlsplit(redirect).path == CALLBACK
    for word in ("pause", "resume", "status", "check"):
        assert word in command["usage_hint"] and f"/pressgate {word}" in USAGE
    with TestClient(create_app(Settings(_env_file=None))) as client:  # type: ignore[call-arg]
        for url in (command["url"], interactivity["request_url"]):
            answer = client.post(urlsplit(url).path)
            assert answer.status_code == 503, url  # served, and refusing until set up
            assert answer.json()["detail"] == NOT_SET_UP


def test_the_manifest_asks_for_the_scopes_pressgate_uses_and_no_more() -> None:
    scopes = manifest()["oauth_config"]["scopes"]
    assert set(scopes["user"]) == {"openid", "email", "profile"}  # Sign in with Slack
    assert set(scopes["bot"]) == {
        "chat:write",
        "im:write",
        "commands",
        "channels:history",
        "groups:history",
        "im:history",
    }


def test_socket_mode_is_off_by_default() -> None:
    assert manifest()["settings"]["socket_mode_enabled"] is False
