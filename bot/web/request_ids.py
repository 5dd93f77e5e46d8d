"""A request id on every web request: on each log line written while it is handled, and on
the answer (`X-Request-ID`), so an operator can match what a user saw to what was logged.

A well-formed id sent by a proxy in front (`X-Request-ID`, up to 64 letters, digits, `-`,
`_` or `.`) is kept, so one id follows a request through the proxy's log and ours;
anything else is replaced by a fresh one.
"""

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.logs import bind

HEADER = b"x-request-id"
WELL_FORMED = re.compile(rb"[A-Za-z0-9._-]{1,64}")


class RequestIds:
    """Pure ASGI middleware (no buffering): binds the id, then adds it to the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request_id = _request_id(scope)
            with bind(request_id=request_id):
                await self.app(scope, receive, _answering_with(send, request_id))
        else:
            await self.app(scope, receive, send)


def _request_id(scope: Scope) -> str:
    sent = dict(scope.get("headers", [])).get(HEADER, b"")
    return sent.decode() if WELL_FORMED.fullmatch(sent) else uuid.uuid4().hex


def _answering_with(send: Send, request_id: str) -> Send:
    async def send_with_id(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), (HEADER, request_id.encode())]
        await send(message)

    return send_with_id
