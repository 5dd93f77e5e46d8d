"""Socket Mode: Slack's requests over a WebSocket that pressgate opens, for networks that
accept nothing from outside.

Switched on by PRESSGATE_SLACK_APP_TOKEN (an app-level token, `xapp-…`, with the
`connections:write` scope). slack_sdk's built-in `SocketModeClient` asks
`apps.connections.open` (at PRESSGATE_SLACK_API_URL) for the socket's address, connects and
reconnects by itself. Each envelope (a click, a modal, a slash command) goes to the same
handlers as the HTTP routes: the envelope is acknowledged first, with what the HTTP
response would carry, and the work runs after it. The WebSocket itself is the proof that a
request comes from Slack, so nothing is signed here.
"""

import logging
import threading
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.slack.commands import handle_command
from bot.slack.interactions import handle_interaction
from bot.slack.replies import Reply, SlackContext

log = logging.getLogger("pressgate.slack")
RETRY_FIRST, RETRY_MAX = 1.0, 60.0  # seconds between attempts to reach Slack at start


class SocketMode:
    """One Socket Mode connection for the life of the web app (`start`, `stop`)."""

    def __init__(self, ctx: SlackContext) -> None:
        settings = ctx.settings
        assert settings.slack_app_token is not None
        self.ctx = ctx
        self.client = SocketModeClient(
            app_token=settings.slack_app_token.get_secret_value(),
            web_client=WebClient(
                base_url=settings.slack_api_url, timeout=int(max(settings.slack_timeout, 1))
            ),
            logger=logging.getLogger("pressgate.slack.socket_mode"),
        )
        self.client.socket_mode_request_listeners.append(self._on_request)
        self._stop = threading.Event()
        self._connecting = threading.Thread(
            target=self._connect, name="slack-socket-mode", daemon=True
        )

    def start(self) -> None:
        """Connect in the background: the app serves pages while Slack is out of reach."""
        self._connecting.start()

    def stop(self) -> None:
        self._stop.set()
        self._connecting.join(timeout=5)
        self.client.close()

    @property
    def connected(self) -> bool:
        return self.client.is_connected()

    def _connect(self) -> None:
        """Until the first connection is up; after that the client reconnects by itself."""
        wait = RETRY_FIRST
        while not self._stop.is_set():
            try:
                self.client.connect_to_new_endpoint(force=True)
            except (SlackApiError, OSError) as error:
                log.warning("Socket Mode: cannot reach Slack (%s)", type(error).__name__)
            if self.client.is_connected():
                log.info("Socket Mode: connected to Slack")
                return
            self._stop.wait(wait)
            wait = min(wait * 2, RETRY_MAX)

    def _on_request(self, client: BaseSocketModeClient, request: SocketModeRequest) -> None:
        reply = self.reply_to(request.type, request.payload)
        client.send_socket_mode_response(
            SocketModeResponse(envelope_id=request.envelope_id, payload=reply.ack)
        )
        if reply.then is not None:
            reply.then()

    def reply_to(self, kind: str, payload: dict[str, Any]) -> Reply:
        if kind == "interactive":
            return handle_interaction(self.ctx, payload)
        if kind == "slash_commands":
            fields = {k: v for k, v in payload.items() if isinstance(v, str)}
            return handle_command(self.ctx, fields)
        return Reply()  # events pressgate did not subscribe to: acknowledged, ignored
