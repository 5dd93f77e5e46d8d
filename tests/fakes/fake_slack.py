"""A fake Slack Web API on loopback: real HTTP, so slack_sdk's own clients make the calls.

It answers what pressgate calls: `chat.postMessage` (a new `ts` per message, in the channel
given, or the DM's `D…` id), `chat.update`, `chat.postEphemeral`, `conversations.open`
(a DM channel per user), `views.open`, `apps.connections.open` (Socket Mode), and the
`response_url` of a click or command. Every call is recorded, with whether it was
answered `ok`, and the messages are kept as Slack would show them (`messages`), updates
applied. Faults can be injected for a period of the test's clock: `fail(until, status=500)`
answers every API call with 500 until then, `rate_limit(until, retry_after)` with 429 and
a `Retry-After` header.
"""

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
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
    ok: bool = True  # answered 200 with "ok": true
    status: int = 200
    at: datetime | None = None  # when, by the test's clock (if the fake was given one)


@dataclass
class Message:
    """A message as it stands in Slack now (after every chat.update)."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    updates: int = 0
    history: list[str] = field(default_factory=list)  # earlier texts, oldest first

    @property
    def buttons(self) -> list[str]:
        """The action ids of the buttons it still has."""
        return [
            str(e.get("action_id"))
            for b in self.blocks
            if b.get("type") == "actions"
            for e in b.get("elements", [])
        ]

    @property
    def words(self) -> str:
        """Every text in it (the blocks' and the fallback), for assertions."""
        return self.text + "\n" + json.dumps(self.blocks, ensure_ascii=False)

    def url_of(self, action_id: str) -> str | None:
        for block in self.blocks:
            for element in block.get("elements", []):
                if element.get("action_id") == action_id:
                    return str(element.get("url"))
        return None


@dataclass
class _Fault:
    until: datetime
    status: int
    retry_after: int | None = None


class FakeSlack:
    """Start it (`with FakeSlack(clock=clock.now) as slack:`), point pressgate at `base_url`."""

    bot_token = "xoxb-fake-bot-token"
    app_token = "xapp-fake-app-token"

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.calls: list[Call] = []
        self.messages: list[Message] = []
        self.delay = 0.0  # seconds every answer waits (a slow Slack)
        self.socket_url: str | None = None  # what apps.connections.open answers
        self.unknown_channels: set[str] = set()  # answered channel_not_found
        self._clock = clock
        self._fault: _Fault | None = None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeSlack":
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

    # --- where it is ------------------------------------------------------------------
    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/"

    def response_url(self, name: str = "1") -> str:
        return f"{self.root}/response/{name}"

    # --- faults -----------------------------------------------------------------------
    def fail(self, until: datetime, *, status: int = 500) -> None:
        """Answer every API call with `status` until the test's clock reaches `until`."""
        self._fault = _Fault(until, status)

    def rate_limit(self, until: datetime, *, retry_after: int = 30) -> None:
        """Answer every API call with 429 and `Retry-After` until `until`."""
        self._fault = _Fault(until, 429, retry_after)

    # --- what happened ----------------------------------------------------------------
    def of(self, method: str, *, ok: bool | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (ok is None or c.ok == ok)]

    def answers(self) -> list[str]:
        """The texts told to the person alone, in order: response_url or chat.postEphemeral."""
        with self._lock:
            return [
                str(c.body.get("text"))
                for c in self.calls
                if c.method in ("response", "chat.postEphemeral") and c.ok
            ]

    def wait_for(self, count: int, *, timeout: float = 5.0) -> list[str]:
        """The answers once there are `count` of them (work after an ack runs in a thread)."""
        deadline = time.monotonic() + timeout
        while len(self.answers()) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.answers()

    def in_channel(self, channel: str) -> list[Message]:
        """Messages posted to a channel (`#name` or id) or to a user's DM (their user id)."""
        wanted = {channel, _dm_of(channel)}
        with self._lock:
            return [m for m in self.messages if m.channel in wanted]

    # --- answering --------------------------------------------------------------------
    def _faulty(self) -> _Fault | None:
        fault = self._fault
        if fault is None or self._clock is None:
            return None
        if self._clock() >= fault.until:
            self._fault = None
            return None
        return fault

    def _answer(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        if call.method != "response":
            fault = self._faulty()
            if fault is not None:
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
                error = "ratelimited" if fault.status == 429 else "internal_error"
                return fault.status, {"ok": False, "error": error}, headers
        if call.method == "response":
            return 200, {"ok": True}, {}
        wanted = self.app_token if call.method == "apps.connections.open" else self.bot_token
        if call.token != wanted:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        with self._lock:
            return 200, self._method(call), {}

    def _method(self, call: Call) -> dict[str, Any]:
        body = call.body
        if call.method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        if call.method == "conversations.open":
            return {"ok": True, "channel": {"id": _dm_of(str(body.get("users", "")))}}
        if call.method == "chat.postMessage":
            channel = str(body.get("channel", ""))
            if channel in self.unknown_channels:
                return {"ok": False, "error": "channel_not_found"}
            ts = f"1764000000.{len(self.messages) + 1:06d}"
            message = Message(channel, ts, str(body.get("text", "")), _blocks(body))
            self.messages.append(message)
            return {"ok": True, "channel": channel, "ts": ts, "message": {"text": message.text}}
        if call.method == "chat.update":
            found = next(
                (
                    m
                    for m in self.messages
                    if m.channel == body.get("channel") and m.ts == body.get("ts")
                ),
                None,
            )
            if found is None:
                return {"ok": False, "error": "message_not_found"}
            found.history.append(found.text)
            found.text, found.blocks = str(body.get("text", "")), _blocks(body)
            found.updates += 1
            return {"ok": True, "channel": found.channel, "ts": found.ts}
        return {"ok": True}


def _dm_of(user: str) -> str:
    """The id of the bot's DM with a user: stable, like Slack's."""
    return "D" + user[1:] if user.startswith(("U", "W")) else user


def _blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = body.get("blocks")
    if isinstance(blocks, str):  # a form-encoded call sends them as JSON text
        blocks = json.loads(blocks)
    return list(blocks or [])


def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
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
            call = Call(method, self.path, token, body)
            status, answer, headers = fake._answer(call)
            with fake._lock:
                fake.calls.append(
                    Call(
                        method,
                        self.path,
                        token,
                        body,
                        ok=status == 200 and answer["ok"],
                        status=status,
                        at=fake._clock() if fake._clock else None,
                    )
                )
            time.sleep(fake.delay)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the calls are recorded

    return Handler
