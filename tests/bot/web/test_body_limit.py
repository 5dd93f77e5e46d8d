"""The request-body limit, against pressgate served by uvicorn on loopback and spoken to over
a raw socket, since the point is what happens before a body has been sent whole: a declared
200 MB body is refused before a byte of it is read, and a streamed one as soon as it passes
the limit, with the connection closed so the rest is never read."""

import select
import socket
import time
from urllib.parse import urlsplit

import httpx

from tests.bot.conftest import Cli, every_row
from tests.bot.web.conftest import PROXY_HEADER

MIB = 1024 * 1024
REQUEST = b"POST /api/v1/check HTTP/1.1\r\nHost: pressgate\r\nContent-Type: application/json\r\n"


def connect(live_server: str) -> socket.socket:
    address = urlsplit(live_server)
    assert address.hostname is not None and address.port is not None
    return socket.create_connection((address.hostname, address.port), timeout=5)


def read_until_closed(sock: socket.socket) -> bytes:
    """The whole answer; returns only when the server closes the connection."""
    sock.settimeout(5)
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    return answer


def test_a_declared_200_mb_body_is_refused_before_any_of_it_is_sent(
    live_server: str, cli: Cli
) -> None:
    before = every_row(cli)
    with connect(live_server) as sock:
        sock.sendall(REQUEST + b"Content-Length: 200000000\r\n\r\n")
        started = time.monotonic()
        answer = read_until_closed(sock)
        waited = time.monotonic() - started
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"content-type: application/problem+json" in head.lower()
    assert b"connection: close" in head.lower()
    assert b"larger than this endpoint accepts (1,048,576 bytes)" in body
    assert waited < 2
    assert every_row(cli) == before


def test_a_streamed_body_is_cut_off_once_it_passes_the_limit(live_server: str, cli: Cli) -> None:
    """Sent the way a careful client uploads: a chunk at a time, looking for an early answer
    in between, so no more is in flight when the server closes (which would reset it)."""
    before = every_row(cli)
    chunk = b"a" * 32768
    sent = 0
    with connect(live_server) as sock:
        sock.sendall(REQUEST + b"Transfer-Encoding: chunked\r\n\r\n")
        while sent < 200_000_000:
            answered, _, _ = select.select([sock], [], [], 0.005)
            if answered:
                break
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"larger than this endpoint accepts" in answer
    # The 1 MiB limit, plus what was in flight when the answer came (about a chunk).
    assert sent < 4 * MIB, f"{sent:,} bytes were sent before the refusal"
    assert every_row(cli) == before


def signed_in(server: str) -> bytes:
    """The headers of Alice's requests (behind the SSO proxy): her session and CSRF token."""
    answer = httpx.get(f"{server}/api/v1/session", headers={PROXY_HEADER: "alice@example.org"})
    cookie = "; ".join(f"{name}={value}" for name, value in answer.cookies.items())
    return (
        f"{PROXY_HEADER}: alice@example.org\r\nCookie: {cookie}\r\n"
        f"X-CSRF-Token: {answer.json()['csrf_token']}\r\n"
    ).encode()


def test_a_body_within_the_limit_is_answered_as_usual(proxy_server: str) -> None:
    body = b'{"parts": [{"text": "Fine."}]}'
    with connect(proxy_server) as sock:
        sock.sendall(
            REQUEST
            + signed_in(proxy_server)
            + b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
        )
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.endswith(b'"lengths":[5],"findings":[]}')
