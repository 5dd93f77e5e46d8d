"""Who is signed in to the web pages, and how they got there.

Three ways in, one session model: OIDC (`bot.web.oidc`) and the demo picker put a verified
e-mail in the signed session; behind an SSO proxy the e-mail comes in a configured header,
believed only from the configured proxy addresses. Either way the e-mail must name an active
person in the permission map in force: anyone else gets a clear page and no session.
Authorisation is never decided here: every action goes to the same domain service as the
CLI, which checks the map.
"""

import ipaddress
from dataclasses import dataclass

from starlette.requests import Request

from approvals.db import session_scope
from approvals.errors import NotFound
from approvals.map_store import get_person
from bot.settings import Settings


class SignInRequired(Exception):
    """Nobody is signed in: pages send them to /signin, the API answers 401."""


class NotInMap(Exception):
    """Signed in (by OIDC or the proxy) as someone the permission map does not name."""

    def __init__(self, email: str) -> None:
        super().__init__(email)
        self.email = email


@dataclass(frozen=True)
class Viewer:
    """The signed-in person as pages need them: their e-mail, id and how they signed in."""

    email: str
    person_id: int
    name: str | None
    method: str  # "oidc", "proxy" or "demo"


def from_trusted_proxy(request: Request, settings: Settings) -> bool:
    host = request.client.host if request.client else None
    if host is None:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(net, strict=False) for net in settings.trusted_proxies
    )


def signed_in_email(request: Request) -> tuple[str, str] | None:
    """(e-mail, method) of whoever this request comes from, before the map is consulted."""
    settings: Settings = request.app.state.settings
    header = settings.proxy_auth_header
    if header and from_trusted_proxy(request, settings):
        value = request.headers.get(header, "").strip().lower()
        return (value, "proxy") if value else None
    email = request.session.get("email")
    if isinstance(email, str) and email:
        return email, str(request.session.get("method", "session"))
    return None


def viewer(request: Request) -> Viewer | None:
    """The signed-in person, or None; `NotInMap` if the e-mail names nobody in the map."""
    cached = request.scope.get("pressgate.viewer")
    if isinstance(cached, Viewer):
        return cached
    who = signed_in_email(request)
    if who is None:
        return None
    email, method = who
    try:
        with session_scope(request.app.state.engine, read_only=True) as session:
            person = get_person(session, email)  # active people of the map in force only
    except NotFound:
        raise NotInMap(email) from None
    assert person.id is not None
    found = Viewer(email=person.email, person_id=person.id, name=person.name, method=method)
    request.scope["pressgate.viewer"] = found
    return found


def require_viewer(request: Request) -> Viewer:
    found = viewer(request)
    if found is None:
        raise SignInRequired()
    return found


def sign_in(request: Request, email: str, method: str) -> None:
    """Start a session for `email` (already verified by the caller), with a fresh CSRF token."""
    request.session.clear()  # a new session id-less cookie: nothing carries over
    request.session.update({"email": email.lower(), "method": method})


def sign_out(request: Request) -> None:
    request.session.clear()
