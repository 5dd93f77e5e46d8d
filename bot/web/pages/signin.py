"""Signing in and out: the page that offers the ways in, the demo picker, sign-out.

OIDC has its own module (`bot.web.oidc`); behind an SSO proxy nobody sees this page unless
the proxy failed to say who they are. The demo picker exists only under `pressgate demo`.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException
from fastapi.responses import RedirectResponse
from starlette.requests import Request
from starlette.responses import Response

from approvals.map_store import current_map, get_person
from bot.web.auth import sign_in, sign_out
from bot.web.csrf import csrf_protect
from bot.web.deps import read, render, settings_of

router = APIRouter(dependencies=[Depends(csrf_protect)])


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/signin", name="signin")
def signin_page(request: Request, next: str | None = None) -> Response:
    settings = settings_of(request)
    people = []
    if settings.demo:
        with read(request) as session:
            people = list(current_map(session).config.people)
    context = {
        "next": safe_next(next),
        "oidc": bool(settings.oidc_issuer and settings.oidc_client_id),
        "proxy": bool(settings.proxy_auth_header),
        "people": people,
    }
    return render(request, "pages/signin.html", context)


@router.post("/signin/demo")
def demo_signin(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Pick a person from the map: only in `pressgate demo`, never in a real installation."""
    if not settings_of(request).demo:
        raise HTTPException(404)
    with read(request) as session:
        person = get_person(session, email)  # NotFound (404 page) for anyone not in the map
    sign_in(request, person.email, "demo")
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/signout")
def signout(request: Request) -> Response:
    sign_out(request)
    return RedirectResponse("/signin", status_code=303)
