"""A fake Socket Mode endpoint on loopback: just enough WebSocket (RFC 6455) for slack_sdk's
built-in `SocketModeClient` to connect, receive an envelope and send its ack.

The handshake, unmasked text frames out, masked frames in, pong for ping and close: the
framing is a few lines, so no WebSocket library is needed. slack_sdk's client talks plain
TCP to any port but 443, so `ws://127.0.0.1:PORT/` works as the address
`apps.connections.open` hands out (see `tests.fakes.fake_slack`).
"""

import base64
import hashlib
import json
import socket
import struct
import threading
import time
from types import TracebackType
from typing import Any

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


class FakeSocketMode:
    def __init__(self) -> None:
        self.acks: list[dict[str, Any]] = []  # what the client sent back, in order
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._client: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> "FakeSocketMode":
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._closed.set()
        self._listener.close()
        if self._client is not None:
            self._client.close()

    def hang_up(self) -> None:
        """Drop the connection, as Slack does now and then (the client then stops at once
        instead of waiting out its read timeout)."""
        if self._client is not None:
            self._client.shutdown(socket.SHUT_RDWR)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._listener.getsockname()[1]}/link/?ticket=fake"

    def wait_connected(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self._client is None:
            assert time.monotonic() < deadline, "the Socket Mode client never connected"
            time.sleep(0.01)

    def send(self, envelope: dict[str, Any]) -> None:
        """An envelope to the connected client, as Slack sends one."""
        self.wait_connected()
        self._frame(TEXT, json.dumps(envelope).encode())

    def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for ack in list(self.acks):
                if ack.get("envelope_id") == envelope_id:
                    return ack
            time.sleep(0.01)
        raise AssertionError(f"no ack for envelope {envelope_id}: {self.acks}")

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            if self._handshake(conn):
                self.connections += 1
                self._client = conn
                threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _handshake(self, conn: socket.socket) -> bool:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(1024)
            if not chunk:
                return False
            request += chunk
        headers = dict(
            line.split(": ", 1) for line in request.decode().split("\r\n")[1:] if ": " in line
        )
        key = {k.lower(): v for k, v in headers.items()}["sec-websocket-key"].strip()
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        conn.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept.encode() + b"\r\n\r\n"
        )
        return True

    def _read(self, conn: socket.socket) -> None:
        try:
            while not self._closed.is_set():
                opcode, payload = _read_frame(conn)
                if opcode == TEXT:
                    self.acks.append(json.loads(payload))
                elif opcode == PING:
                    self._frame(PONG, payload)
                elif opcode == CLOSE:
                    return
        except (OSError, ConnectionError):
            return

    def _frame(self, opcode: int, payload: bytes) -> None:
        """A server frame: final, unmasked."""
        assert self._client is not None
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", 0x80 | opcode, size)
        elif size < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 126, size)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 127, size)
        with self._send_lock:
            self._client.sendall(header + payload)


def _read_frame(conn: socket.socket) -> tuple[int, bytes]:
    """One client frame (clients always mask); fragments are not needed here."""
    first, second = _exactly(conn, 2)
    size = second & 0x7F
    if size == 126:
        (size,) = struct.unpack("!H", _exactly(conn, 2))
    elif size == 127:
        (size,) = struct.unpack("!Q", _exactly(conn, 8))
    mask = _exactly(conn, 4) if second & 0x80 else b"\0\0\0\0"
    data = _exactly(conn, size)
    return first & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def _exactly(conn: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data
