"""A limit on the size of every request body, enforced before the body is read.

Without it a client can make any route read a 200 MB body into memory before validation even
starts. This ASGI middleware answers 413 with a problem document:

* at once, without reading a byte of the body, when `Content-Length` says it is too large;
* otherwise (a chunked or lying upload) as soon as the bytes received pass the limit. The
  application then receives a disconnect instead of more body, so it stops reading, and
  whatever it tries to answer after that is dropped: the 413 is the answer.

Either way the connection is closed after the answer, so the server reads no more of the
body. (A client that keeps sending without looking for an early answer may see the connection
reset instead of the 413, as with any server that stops reading an upload.)

The limit is `PRESSGATE_MAX_REQUEST_BYTES`; a route that takes more (an image upload) or less
is given its own limit where the app is assembled, in `bot.web.app`.
"""

from collections.abc import Mapping

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.web.problems import problem


class BodyLimit:
    def __init__(self, app: ASGIApp, *, default: int, routes: Mapping[str, int]) -> None:
        """`routes` maps a path to its own limit; a path ending in "/" covers all below it, and
        a `*` stands for one path segment (`/posts/*/edit`)."""
        self.app = app
        self.default = default
        self.routes = dict(routes)

    def limit_for(self, path: str) -> int:
        if path in self.routes:
            return self.routes[path]
        for pattern, limit in self.routes.items():
            if "*" in pattern and _segments_match(pattern, path):
                return limit
        prefixes = [p for p in self.routes if p.endswith("/") and path.startswith(p)]
        return self.routes[max(prefixes, key=len)] if prefixes else self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(limit)(scope, receive, send)
            return
        guard = _Guard(limit, receive, send)
        try:
            await self.app(scope, guard.receive, guard.send)
        except ClientDisconnect:
            if not guard.refused:  # a real disconnect, not the one fed to the app here
                raise


class _Guard:
    """Counts the body as the application reads it, and answers 413 once it is too long."""

    def __init__(self, limit: int, receive: Receive, send: Send) -> None:
        self.limit, self._receive, self._send = limit, receive, send
        self.received = 0
        self.started = False
        self.refused = False

    async def receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.refused = True
                if not self.started:
                    await _too_large(self.limit)({"type": "http"}, self._receive, self._send)
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self.refused:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


def _too_large(limit: int) -> ASGIApp:
    return problem(
        413,
        f"The request body is larger than this endpoint accepts ({limit:,} bytes).",
        headers={"Connection": "close"},
    )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length itself
    return None


def _segments_match(pattern: str, path: str) -> bool:
    want, have = pattern.split("/"), path.split("/")
    return len(want) == len(have) and all(w in ("*", h) for w, h in zip(want, have, strict=True))
