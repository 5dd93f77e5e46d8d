"""What every page and API route shares: who is asking, the database, the clock, rendering.

Routes stay thin: parse, call one domain service inside `write(request)` (which records
`via: web` on every audit entry), render. They never decide a rule themselves.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from approvals.analytics.prices import dollars
from approvals.clock import Clock
from approvals.db import session_scope
from approvals.files import shipped
from approvals.map_store import get_person
from approvals.models import Person
from approvals.schedule import show_local
from bot.settings import Settings
from bot.web.auth import Viewer, require_viewer, viewer
from bot.web.csrf import csrf_token

TEMPLATES_DIR = shipped("templates")

ViewerDep = Annotated[Viewer, Depends(require_viewer)]

templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)
# Times are stored in UTC and shown in the zone they belong to (the post's account).
templates.env.filters["local"] = show_local
templates.env.filters["dollars"] = dollars


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def now(request: Request) -> datetime:
    clock: Clock = request.app.state.clock
    return clock.now()


@contextmanager
def write(request: Request) -> Iterator[Session]:
    """A unit of work for a change made through the web; its audit entries say `via: web`."""
    with session_scope(request.app.state.engine, via="web") as session:
        yield session


@contextmanager
def read(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.engine, read_only=True) as session:
        yield session


def person(session: Session, who: Viewer) -> Person:
    """The signed-in person as the domain services take them, in this unit of work."""
    return get_person(session, who.email)


def flash(request: Request, message: str, kind: str = "ok") -> None:
    """A one-line notice shown on the next page (after a redirect)."""
    notices = list(request.session.get("flash", []))
    notices.append([kind, message])
    request.session["flash"] = notices[-5:]


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    private: bool = True,
) -> Response:
    """A page: the template with who is signed in, the CSRF token and pending notices.

    `private` pages show unpublished words or people's details: browsers must not keep them.
    """
    try:
        who = viewer(request)
    except Exception:  # a page about the sign-in problem itself renders without a person
        who = None
    settings = settings_of(request)
    base = {
        "viewer": who,
        "csrf_token": csrf_token(request),
        "notices": request.session.pop("flash", []),
        "demo": settings.demo,
        "publisher": settings.publisher,
        "path": request.url.path,
    }
    response = templates.TemplateResponse(
        request, template, {**base, **(context or {})}, status_code=status
    )
    if private:
        response.headers["Cache-Control"] = "no-store"
    return response
