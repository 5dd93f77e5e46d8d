"""`GET /api/v1/session`: who you are signed in as, and the CSRF token every change needs.

A program signs in as a browser does (the session cookie from OIDC, the SSO proxy or the
demo picker), reads its token here once, and sends it as `X-CSRF-Token`."""

from fastapi import APIRouter, Request

from bot.web.api.models import Me
from bot.web.csrf import csrf_token
from bot.web.deps import ViewerDep

router = APIRouter(tags=["session"])


@router.get("/session", response_model=Me, name="api_me")
def me(request: Request, who: ViewerDep) -> Me:
    return Me(
        email=who.email, name=who.name, signed_in_with=who.method, csrf_token=csrf_token(request)
    )
