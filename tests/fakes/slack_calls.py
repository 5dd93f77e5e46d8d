"""A small fake of the Slack Web API on loopback, for what Slack's requests make pressgate
call back: `views.open`, `chat.postEphemeral`, `apps.connections.open` (Socket Mode) and
the `response_url` of a click or command. Real HTTP, so slack_sdk's own clients make the
calls; every call is recorded for the test to read.

To be folded into the full fake (`tests/fakes/fake_slack.py`, the outbox's) when both land.
"""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class Call:
    method: str  # a Web API method ("views.open"), or "response" for a response_url
    path: str
    token: str | None  # the bearer token sent, if any
    body: dict[str, Any]


class SlackCalls:
    """Start it (`with SlackCalls() as slack:`), point pressgate at `base_url`, read `calls`."""

    bot_token = "xoxb-fake-bot-token"
    app_token = "xapp-fake-app-token"

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.delay = 0.0  # seconds every answer waits (a slow Slack)
        self.socket_url: str | None = None  # what apps.connections.open answers
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "SlackCalls":
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/"

    def response_url(self, name: str = "1") -> str:
        return f"{self.root}/response/{name}"

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def answers(self) -> list[str]:
        """The texts told to the person alone, in order: response_url or chat.postEphemeral."""
        with self._lock:
            return [
                str(c.body.get("text"))
                for c in self.calls
                if c.method in ("response", "chat.postEphemeral")
            ]

    def wait_for(self, count: int, *, timeout: float = 5.0) -> list[str]:
        """The answers once there are `count` of them (work after an ack runs in a thread)."""
        deadline = time.monotonic() + timeout
        while len(self.answers()) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.answers()

    def _record(self, call: Call) -> dict[str, Any]:
        with self._lock:
            self.calls.append(call)
        if call.method == "response":
            return {"ok": True}
        wanted = self.app_token if call.method == "apps.connections.open" else self.bot_token
        if call.token != wanted:
            return {"ok": False, "error": "invalid_auth"}
        if call.method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        return {"ok": True}


def _handler(fake: SlackCalls) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if self.headers.get("Content-Type", "").startswith("application/json"):
                body = json.loads(raw or "{}")
            else:
                body = dict(parse_qsl(raw))
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
            if self.path.startswith("/response/"):
                method = "response"
            else:
                method = self.path.removeprefix("/api/")
            answer = fake._record(Call(method, self.path, token, body))
            time.sleep(fake.delay)
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the calls are recorded

    return Handler
