"""`POST /slack/interactions` and `POST /slack/commands`: what Slack sends pressgate.

No session and no CSRF token: Slack is not a browser. The proof is Slack's signature over
the raw body (slack_sdk's `SignatureVerifier`: HMAC-SHA256 of `v0:{timestamp}:{body}` with
the app's signing secret), with a timestamp at most 5 minutes from the app's clock, so an
old request cannot be replayed. Anything unsigned, badly signed, too old or with a timestamp
that is not a number is refused with 401 before its body is read as a form. The body is
bounded like every other (PRESSGATE_MAX_REQUEST_BYTES).

The answer goes back at once (Slack waits 3 seconds); the work, and the answer to the person
who asked, come after it (`bot.slack.replies`).
"""

import json
import logging
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from slack_sdk.signature import Clock as SlackClock
from slack_sdk.signature import SignatureVerifier
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from approvals.clock import Clock
from bot.slack.commands import handle_command
from bot.slack.interactions import handle_interaction
from bot.slack.replies import Reply, SlackContext
from bot.web.problems import problem

log = logging.getLogger("pressgate.slack")
router = APIRouter(prefix="/slack")
NOT_SET_UP = "Slack is not set up here: PRESSGATE_SLACK_SIGNING_SECRET is unset"


class _AppClock(SlackClock):
    """The app's clock as slack_sdk's verifier reads it (Unix seconds), so tests can move it."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock.now().timestamp()


class _Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


@router.post("/interactions")
async def interactions(request: Request) -> Response:
    """Button clicks and modal submissions: a form with one `payload` field of JSON."""
    try:
        form = await _verified_form(request)
        payload = json.loads(form.get("payload", ""))
        if not isinstance(payload, dict):
            raise ValueError("payload is not an object")
    except _Refused as refused:
        return problem(refused.status, refused.detail)
    except ValueError:
        return problem(400, "the payload field must hold a JSON object")
    return _answer(handle_interaction(_context(request), payload))


@router.post("/commands")
async def commands(request: Request) -> Response:
    """`/pressgate …`: a form of the command's fields (text, user_id, response_url, …)."""
    try:
        form = await _verified_form(request)
    except _Refused as refused:
        return problem(refused.status, refused.detail)
    return _answer(handle_command(_context(request), form))


async def _verified_form(request: Request) -> dict[str, str]:
    """The form in a body Slack signed (each field's first value), or `_Refused`."""
    settings = request.app.state.settings
    secret = settings.slack_signing_secret
    if secret is None or not secret.get_secret_value().strip():
        raise _Refused(503, NOT_SET_UP)
    body = await request.body()
    clock = _AppClock(request.app.state.clock)
    verifier = SignatureVerifier(secret.get_secret_value(), clock=clock)
    try:
        valid = verifier.is_valid_request(body, dict(request.headers))
    except ValueError:  # a timestamp that is not a number, a body that is not UTF-8
        valid = False
    if not valid:
        log.warning("refused a request to %s: no valid Slack signature", request.url.path)
        raise _Refused(401, "no valid Slack signature (or its timestamp is over 5 minutes off)")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise _Refused(400, "the body must be a UTF-8 form") from None
    return {key: values[0] for key, values in fields.items()}


def _context(request: Request) -> SlackContext:
    state: Any = request.app.state
    return SlackContext(engine=state.engine, settings=state.settings, clock=state.clock)


def _answer(reply: Reply) -> Response:
    """The acknowledgement now; the work after it has gone (Starlette's background task)."""
    background = BackgroundTask(reply.then) if reply.then else None
    if reply.ack is None:
        return Response(status_code=200, background=background)
    return JSONResponse(reply.ack, background=background)
