"""Every error the web app answers is a problem document (RFC 9457, `application/problem+json`),
made here and only here.

A problem document names what was wrong and where, never the value sent: a 100 MB text must
not come back in the answer that refuses it, and a value may be someone's personal data.
Validation errors name the field (`parts[0].text`) and the rule (`string_too_long`) with
pydantic's message, which describes the rule, not the input. A string holding a lone
surrogate (JSON allows `"\\ud800"`, Unicode does not; pydantic refuses it as
`string_unicode`) is a malformed request, 400, and so is a body that is not JSON at all; any
other validation failure is 422.
"""

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

MEDIA_TYPE = "application/problem+json"
# Rules that make a request malformed (400), with what to tell the client.
MALFORMED = {
    "json_invalid": "the body is not valid JSON",
    "string_unicode": "the text is not valid Unicode: it holds half of a character "
    "(a lone surrogate such as \\ud800)",
}
MAX_MESSAGE = 200  # a custom validator's message is cut short, in case it quotes its input


def problem(
    status: int, detail: str, *, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """One problem document; `extra` adds members such as `errors`."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    body |= {"detail": detail, **extra}
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


def field_name(loc: Sequence[int | str]) -> str:
    """`("body", "parts", 0, "text")` as a person writes it: `parts[0].text`."""
    name = ""
    for part in loc[1:] if loc and loc[0] in {"body", "query", "path", "header"} else loc:
        name += f"[{part}]" if isinstance(part, int) else f".{part}" if name else str(part)
    return name or "the request"


def _error(error: Mapping[str, Any]) -> dict[str, str]:
    """Field, rule and message of one validation error; its `input` and `ctx` are left out."""
    rule = str(error.get("type", "invalid"))
    message = MALFORMED.get(rule) or str(error.get("msg", ""))
    return {
        "field": field_name(error.get("loc", ())),
        "rule": rule,
        "message": message[:MAX_MESSAGE],
    }


async def _invalid(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [_error(error) for error in exc.errors()]
    malformed = [e for e in errors if e["rule"] in MALFORMED]
    shown = malformed or errors
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in shown[:3])
    if len(shown) > 3:
        detail += f" (and {len(shown) - 3} more)"
    return problem(400 if malformed else 422, detail, errors=shown)


async def http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in {204, 304} or exc.status_code < 200:  # no body allowed
        return Response(status_code=exc.status_code, headers=exc.headers)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem(exc.status_code, detail, headers=exc.headers)


async def _unexpected(_request: Request, _exc: Exception) -> Response:
    """The traceback goes to the log (Starlette logs it); the client learns nothing of it."""
    return problem(500, "Something went wrong on our side; the error has been logged.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, _unexpected)
