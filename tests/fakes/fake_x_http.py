"""HTTP side of the fake X API (`tests.fakes.fake_x`): the loopback server, and the faults a
test injects as they happen on the wire (latency, 429/5xx answers, held connections, drops
and resets).

Why apart: what a fault does to the connection is the same whatever X would answer, so it is
checked once here and the endpoints (`fake_x_api`) read without it.
"""

from __future__ import annotations

import contextlib
import json
import math
import queue
import random
import re
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:  # types only: at run time `python -m tests.fakes.fake_x` would import it twice
    from tests.fakes.fake_x import FakeUser


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    """Set by `FakeX.fail_next`: the next `times` matching requests meet `kind`."""

    method: str
    path_prefix: str
    kind: str
    times: int
    reset_in: float


class HeldRequest:
    """One request a `Hold` stopped on the wire; the test lets it through or drops it."""

    def __init__(self, text: str | None) -> None:
        self.text = text  # the post's text, for a create
        self._decided = threading.Event()
        self.dropped = False

    def let_through(self) -> None:
        self._decided.set()

    def drop(self) -> None:
        """Close the connection without creating anything (the request never reached X)."""
        self.dropped = True
        self._decided.set()

    def wait(self, stopping: threading.Event) -> None:
        while not self._decided.wait(0.05):
            if stopping.is_set():
                self.dropped = True
                return


class Hold:
    """Set by `FakeX.hold`: matching requests wait on the wire until the test decides.

    Why: to freeze or kill a worker at an exact moment of a publish (mid-call, between the
    parts of a thread) the test must know the call is in flight, and choose whether X then
    acts on it. Works across processes, since the workers reach the fake over loopback.
    """

    def __init__(self, method: str, path_prefix: str, text: str | None) -> None:
        self.method, self.path_prefix, self.text = method, path_prefix, text
        self.active = True
        self.arrivals: queue.Queue[HeldRequest] = queue.Queue()

    def matches(self, method: str, path: str, body: bytes) -> HeldRequest | None:
        if not self.active or method != self.method or not path.startswith(self.path_prefix):
            return None
        try:
            text = json.loads(body).get("text")
        except (ValueError, AttributeError):
            text = None
        if self.text is not None and (not isinstance(text, str) or self.text not in text):
            return None
        held = HeldRequest(text if isinstance(text, str) else None)
        self.arrivals.put(held)
        return held

    def next(self, timeout: float = 10.0) -> HeldRequest:
        """The next request held (waits for it to arrive)."""
        return self.arrivals.get(timeout=timeout)

    def stop(self) -> None:
        """Hold no more requests (those already held still wait for a decision)."""
        self.active = False


def problem(status: int, title: str, detail: str, type_: str = "about:blank") -> Reply:
    """Problem details (RFC 7807), the shape of most X API v2 errors."""
    return Reply(status, {"title": title, "detail": detail, "type": type_, "status": status})


def fault_reply(kind: str, reset_in: float) -> Reply:
    """What X sends with a 429, 500 or 503: for injected faults and enforced rate limits."""
    headers = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0"}
    if kind != "429_no_reset":
        headers["x-rate-limit-reset"] = str(math.ceil(time.time() + reset_in))
    if kind == "500":  # the older error shape, which some 5xx answers still use
        return Reply(500, {"errors": [{"code": 131, "message": "Internal error"}]}, headers)
    if kind == "503":
        return Reply(503, problem(503, "Service Unavailable", "Service Unavailable").body, headers)
    return Reply(429, problem(429, "Too Many Requests", "Too Many Requests").body, headers)


def multipart(content_type: str, body: bytes) -> dict[str, tuple[bytes, str]]:
    """Form parts by name: (bytes, content type). The stdlib `cgi` parser is deprecated."""
    found = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.startswith("multipart/form-data") or not found:
        return {}
    parts = {}
    for chunk in body.split(b"--" + found.group(1).encode())[1:-1]:
        head, _, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        name = re.search(rb'[; ]name="([^"]*)"', head)
        ctype = re.search(rb"(?i)content-type:\s*([^\r\n]+)", head)
        if name:
            kind = ctype.group(1).decode() if ctype else "text/plain"
            parts[name.group(1).decode()] = (data.removesuffix(b"\r\n"), kind)
    return parts


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as tweepy's session pools connections
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls
    server: Server

    def do_GET(self) -> None:
        self.server.serve_request(self)

    do_POST = do_DELETE = do_PUT = do_GET

    def reply(self, reply: Reply) -> None:
        data = json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (its timeout was shorter than our latency)
            self.close_connection = True

    def drop(self, hard: bool) -> None:
        """Close without answering; `hard` sends a TCP reset instead of a clean close."""
        self.close_connection = True
        if hard:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the records say what happened, and stderr noise hides test failures."""


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # many worker processes (or the fan-out floor) connect at once

    def __init__(self, address: tuple[str, int], serve_request: Callable[[Handler], None]) -> None:
        self.serve_request = serve_request  # answers (or drops) one request: Wire._serve
        self.open_sockets: set[socket.socket] = set()
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that vanished mid-request (a killed worker) is normal, not a bug."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        self.open_sockets.add(sock)
        return sock, address

    def shutdown_request(self, request: Any) -> None:
        self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End kept-alive connections, so no client talks to a stopped fake's threads."""
        for sock in list(self.open_sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class Wire:
    """One request from socket to answer, with the faults a test injected; a mixin of FakeX,
    which holds the state below, answers through the API (`_handle`) and keeps the records."""

    latency: float
    timeout_sleep: float
    _lock: threading.RLock
    _stopping: threading.Event
    _faults: list[Fault]
    _holds: list[Hold]
    _chaos: tuple[float, list[str], random.Random] | None
    _server_errors: list[str]
    _authenticate: Callable[[Message], tuple[FakeUser | None, str]]
    _handle: Callable[[str, str, str, Message, bytes], tuple[Reply, str | None]]
    _new_request: Callable[[str, str, str, int | None, str | None, str | None], None]

    def _serve(self, h: Handler) -> None:
        url = urlsplit(h.path)
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        held = self._take_hold(h.command, url.path, body)
        if held is not None:
            held.wait(self._stopping)
            if held.dropped:
                with self._lock:
                    self._new_request(h.command, url.path, url.query, None, "held_dropped", None)
                h.drop(hard=True)
                return
        kind, reset_in = self._take_fault(h.command, url.path)
        if h.command == "POST" and url.path == "/2/tweets" and self.latency > 0:
            self._stopping.wait(self.latency)
        user_id = None
        if kind is not None:  # still say whose request met the fault
            with self._lock:
                user = self._authenticate(h.headers)[0]
            user_id = user.id if user else None
        if kind in ("reset", "timeout_before"):
            reply = None
        elif kind in ("429", "429_no_reset", "500", "503"):
            reply = fault_reply(kind, reset_in)
        elif kind == "no_data":  # a success status with no post in it; nothing is created
            reply = Reply(201, {})
        else:
            try:
                reply, user_id = self._handle(h.command, url.path, url.query, h.headers, body)
            except Exception:
                with self._lock:
                    self._server_errors.append(traceback.format_exc())
                reply = problem(500, "Fake X bug", "see FakeX.server_errors")
        dropped = reply is None or kind == "timeout_after"
        with self._lock:
            status = None if dropped or reply is None else reply.status
            self._new_request(h.command, url.path, url.query, status, kind, user_id)
        if dropped or reply is None:
            if kind != "reset":
                self._stopping.wait(self.timeout_sleep)
            h.drop(hard=kind == "reset")
        else:
            h.reply(reply)

    def _take_hold(self, method: str, path: str, body: bytes) -> HeldRequest | None:
        with self._lock:
            for hold in self._holds:
                held = hold.matches(method, path, body)
                if held is not None:
                    return held
        return None

    def _take_fault(self, method: str, path: str) -> tuple[str | None, float]:
        with self._lock:
            for fault in self._faults:
                if (
                    fault.times > 0
                    and fault.method == method
                    and path.startswith(fault.path_prefix)
                ):
                    fault.times -= 1
                    return fault.kind, fault.reset_in
            if self._chaos and (method, path) == ("POST", "/2/tweets"):
                rate, kinds, rng = self._chaos
                if rng.random() < rate:
                    return rng.choice(kinds), 1.0
        return None, 0.0
