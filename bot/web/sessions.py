"""Signed session cookies for the web pages.

The cookie holds only who is signed in, their CSRF token and one-shot notices; it is signed
(itsdangerous, through Starlette's SessionMiddleware) with a key derived from
PRESSGATE_SECRET_KEY, so it cannot be forged or edited. It is HttpOnly, SameSite=Lax,
Secure when pressgate is served over HTTPS, and re-signed on every response, so its
`max_age` is an idle timeout: a session ends after `session_idle_minutes` without a request.
"""

import logging
import secrets

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from approvals.keys import derive_key
from bot.settings import Settings

log = logging.getLogger("pressgate.web")
COOKIE = "pressgate_session"


def session_key(settings: Settings) -> str:
    """The cookie-signing key: derived from the secret key, never the secret key itself.

    With no usable secret key (tests, a misconfigured start that `pressgate run` would have
    refused) sessions are signed with a key made for this process: they end on restart.
    """
    if settings.secret_is_placeholder:
        if not settings.demo:
            log.warning("PRESSGATE_SECRET_KEY is unusable: web sessions end on restart")
        return secrets.token_urlsafe(32)
    return derive_key(settings.secret_key.get_secret_value(), b"pressgate web sessions v1").hex()


def add_sessions(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_key(settings),
        session_cookie=COOKIE,
        max_age=settings.session_idle_minutes * 60,
        same_site="lax",
        https_only=settings.base_url.startswith("https://"),
    )
