"""CSRF protection for every state-changing request made with a session cookie.

A random token lives in the signed session; every form carries it in a hidden
`csrf_token` field and scripts send it in an `X-CSRF-Token` header. A POST (or PUT, PATCH,
DELETE) without the session's token is refused before any route runs, so another site
cannot make a signed-in browser approve, reject or pause anything. SameSite=Lax cookies are
the second line, not the only one.
"""

import hmac
import secrets

from starlette.requests import Request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FIELD = "csrf_token"
HEADER = "x-csrf-token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class CsrfFailed(Exception):
    """The request did not carry this session's CSRF token."""


def csrf_token(request: Request) -> str:
    """This session's token, made on first use (a page render puts it in the session)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def csrf_protect(request: Request) -> None:
    """A FastAPI dependency for routers whose routes change state."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get("csrf")
    given = request.headers.get(HEADER)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if given is None and content_type in FORM_TYPES:
        form = await request.form()  # cached: the route reads the same parsed form
        value = form.get(FIELD)
        given = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not given or not hmac.compare_digest(expected, given):
        raise CsrfFailed()
