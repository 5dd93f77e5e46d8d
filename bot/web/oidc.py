"""Signing in with the organisation's OpenID Connect provider (Microsoft Entra ID, Google
Workspace, Keycloak, Sign in with Slack).

Authlib's Starlette client speaks the protocol (authorization code flow); this module
decides what to trust, because Authlib's defaults trust too much:
- PKCE (S256) is asked for explicitly: Authlib ignores what the discovery document offers.
- A nonce is always sent: Authlib checks the id_token's nonce only when one was sent.
- The id_token's `aud` must be our client id and its `iss` the configured issuer: Authlib
  checks neither unless told to, and accepts a token for another client that names us in
  `azp`.
- Expiry is checked with `LEEWAY_SECONDS`, not Authlib's 120 s.
- Only a verified e-mail names a person (`email_verified` true, or `xms_edov` true from Entra
  ID, which never sends `email_verified`).
- The discovery document must name the configured issuer (OIDC Discovery requires it), so
  Entra's "common" endpoint or a tenant's domain name instead of its id is refused with a
  message saying which issuer to configure, rather than failing every sign-in later.
State is checked by Authlib (kept in the signed session, one use). Whoever passes all of that
must still be an active person in the map in force; anyone else gets the "not in the
permission map" page and no session. Every refusal is a one-paragraph page, logged at INFO
without codes or tokens.
"""

import logging
import re
import secrets
from collections.abc import Mapping
from typing import Any

import httpx2
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client.errors import MismatchingStateError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from fastapi import APIRouter
from fastapi.responses import RedirectResponse
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from approvals.db import session_scope
from approvals.errors import NotFound
from approvals.map_store import get_person
from bot.settings import Settings
from bot.web.auth import NotInMap, sign_in, sign_out
from bot.web.errors import error_page
from bot.web.pages.signin import safe_next

log = logging.getLogger("pressgate.web.oidc")

SCOPE = "openid email profile"
CALLBACK = "/signin/oidc/callback"
NEXT = "oidc_next"  # where to go after signing in, kept in the session meanwhile
MAX_NEXT = 1000
TIMEOUT_SECONDS = 10.0  # one call to the provider; a sign-in page must not hang
# The id_token is used seconds after it is issued and never again (one-time state and nonce),
# so the leeway only has to cover clock skew between two NTP-synchronised servers. Authlib's
# default of 120 s would accept a token two minutes past its expiry.
LEEWAY_SECONDS = 30
# Google's tokens may name their issuer without the scheme (Google's own documentation).
ISSUER_ALIASES = {"https://accounts.google.com": ["accounts.google.com"]}
AGAIN = "Start again from the sign-in page; if it keeps happening, tell whoever runs pressgate."


class SignInRefused(Exception):
    """A sign-in that must not start a session: the page to show and what to log."""

    def __init__(self, status: int, title: str, detail: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.title, self.detail, self.reason = status, title, detail, reason


def configured(settings: Settings) -> bool:
    """OIDC is set up (the client secret may be absent: a public client relies on PKCE)."""
    return bool(settings.oidc_issuer and settings.oidc_client_id)


def redirect_uri(settings: Settings) -> str:
    """The address to register with the provider: the provider sends people back here."""
    return settings.base_url.rstrip("/") + CALLBACK


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def make_client(settings: Settings) -> StarletteOAuth2App:
    """The app's OIDC client. Nothing is fetched here: the discovery document is read at the
    first sign-in (and again after a failure), so pressgate starts while the provider is down."""
    assert settings.oidc_issuer
    secret = settings.oidc_client_secret
    client: StarletteOAuth2App = OAuth().register(
        "oidc",
        client_id=settings.oidc_client_id,
        client_secret=secret.get_secret_value() if secret else None,
        server_metadata_url=discovery_url(settings.oidc_issuer),
        client_kwargs={
            "code_challenge_method": "S256",
            "scope": SCOPE,
            "timeout": TIMEOUT_SECONDS,
        },
    )
    return client


def router_for(settings: Settings) -> APIRouter:
    """`GET /signin/oidc?next=` (off to the provider) and its callback, for this app's client.

    Both are GETs by the protocol; they change nothing but the browser's own session.
    """
    router = APIRouter()
    client = make_client(settings) if configured(settings) else None

    @router.get("/signin/oidc", name="signin_oidc")
    async def start(request: Request, next: str | None = None) -> Response:
        if client is None:
            return not_set_up(request)
        # A longer `next` would push the session cookie past what browsers keep (4 KB).
        request.session[NEXT] = safe_next(next if next and len(next) <= MAX_NEXT else None)
        try:
            await provider_metadata(client, settings)
            # Always a nonce: Authlib reads the id_token only when the session holds one.
            nonce = secrets.token_urlsafe(32)
            redirect: Response = await client.authorize_redirect(
                request, redirect_uri(settings), nonce=nonce
            )
        except SignInRefused as refused:
            return refuse(request, refused)
        except (httpx2.HTTPError, ValueError, RuntimeError) as error:
            return refuse(request, unreachable(error))
        return redirect

    @router.get(CALLBACK, name="signin_oidc_callback")
    async def callback(request: Request) -> Response:
        if client is None:
            return not_set_up(request)
        target = safe_next(request.session.pop(NEXT, None))
        try:
            email = await verified_email(client, settings, request)
        except SignInRefused as refused:
            return refuse(request, refused)
        await run_in_threadpool(require_in_map, request, email)
        sign_in(request, email, "oidc")
        log.info("signed in by OIDC: %s", email)
        return RedirectResponse(target, status_code=303)

    return router


async def provider_metadata(client: StarletteOAuth2App, settings: Settings) -> dict[str, Any]:
    """The discovery document, once it is known to belong to the configured issuer."""
    metadata: dict[str, Any] = await client.load_server_metadata()
    issuer = str(metadata.get("issuer", ""))
    assert settings.oidc_issuer
    if issuer.rstrip("/") != settings.oidc_issuer.rstrip("/"):
        client.server_metadata.pop("_loaded_at", None)  # read it again next time
        raise SignInRefused(
            502,
            "Sign-in is misconfigured",
            f"The sign-in service says its issuer is {issuer or 'nothing'}, but pressgate is "
            f"set up for {settings.oidc_issuer}, so pressgate cannot trust its answers. "
            "Whoever runs pressgate should set PRESSGATE_OIDC_ISSUER to the issuer the "
            "service names (for Microsoft Entra ID, the one with your tenant's id).",
            f"discovery names issuer {issuer!r}, configured {settings.oidc_issuer!r}",
        )
    supported = metadata.get("token_endpoint_auth_methods_supported") or []
    if "client_secret_basic" not in supported and "client_secret_post" in supported:
        # Sign in with Slack takes the secret in the form only; basic is OIDC's default.
        client.client_kwargs.setdefault("token_endpoint_auth_method", "client_secret_post")
    return metadata


async def verified_email(client: StarletteOAuth2App, settings: Settings, request: Request) -> str:
    """The verified e-mail of whoever the provider sent back, or `SignInRefused`."""
    said_no = request.query_params.get("error")
    if said_no:
        code = re.sub(r"[^a-z_]", "", said_no.lower())[:40] or "an error"
        raise SignInRefused(
            403,
            "Sign-in refused",
            f"Your organisation's sign-in service did not sign you in ({code}). If you "
            "cancelled, nothing happened; otherwise ask your IT service desk whether you may "
            "use pressgate, then start again from the sign-in page.",
            f"provider answered error={code}",
        )
    try:
        metadata = await provider_metadata(client, settings)
        token = await client.authorize_access_token(
            request,
            claims_options=claims_options(metadata, client.client_id),
            leeway=LEEWAY_SECONDS,
        )
    except MismatchingStateError:
        raise SignInRefused(
            400,
            "Sign-in expired",
            "This sign-in did not start in this browser, was already used, or the sign-in "
            "page was left open too long. Start again from the sign-in page.",
            "state missing or not this session's",
        ) from None
    except AuthlibBaseError as error:  # the token endpoint refused the code
        kind = str(error.error or "an error")
        status = 502 if kind in ("invalid_client", "unauthorized_client") else 400
        raise SignInRefused(
            status,
            "Sign-in failed",
            f"Your organisation's sign-in service would not complete this sign-in ({kind}). "
            + AGAIN,
            f"token endpoint refused: {kind}",
        ) from None
    except JoseError as error:
        raise untrusted(error) from None
    except (httpx2.HTTPError, ValueError, RuntimeError) as error:
        raise unreachable(error) from None
    claims = token.get("userinfo")
    if not isinstance(claims, Mapping):
        raise SignInRefused(
            502,
            "Sign-in failed",
            "The sign-in service sent no identity token. " + AGAIN,
            "no id_token",
        )
    return email_of(claims)


def claims_options(metadata: Mapping[str, Any], client_id: str) -> dict[str, Any]:
    """What the id_token must say, made afresh for each sign-in (Authlib edits the options)."""
    issuer = str(metadata["issuer"])
    return {
        "iss": {"essential": True, "values": [issuer, *ISSUER_ALIASES.get(issuer, [])]},
        "aud": {"essential": True, "values": [client_id]},
    }


def email_of(claims: Mapping[str, Any]) -> str:
    """The e-mail the provider vouches for. Entra ID says so with `xms_edov` (the address's
    domain is verified by the tenant) and never sends `email_verified`."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise SignInRefused(
            403,
            "No e-mail address",
            "Your organisation's sign-in service did not tell pressgate your e-mail address, "
            "so pressgate cannot tell who you are. Whoever runs pressgate should let the "
            "service share the e-mail address (the `email` scope or claim).",
            "no email claim",
        )
    if claims.get("email_verified") is True or claims.get("xms_edov") is True:
        return email.strip().lower()
    raise SignInRefused(
        403,
        "E-mail address not verified",
        f"Your organisation's sign-in service does not vouch for the address {email}, so "
        "pressgate cannot take it as yours. Ask your IT service desk to verify it, then "
        "start again from the sign-in page.",
        f"email {email} not verified",
    )


WHY_UNTRUSTED = {
    "aud": "it was made for another application",
    "azp": "it was made for another application",
    "iss": "it comes from another issuer",
    "nonce": "it belongs to another sign-in",
    "iat": "it is dated in the future",
    "nbf": "it is not valid yet",
}


def untrusted(error: JoseError) -> SignInRefused:
    if isinstance(error, ExpiredTokenError):
        why = "it has expired (the clocks of pressgate and the sign-in service may disagree)"
    elif isinstance(error, ClaimError):
        why = WHY_UNTRUSTED.get(error.claim, f"its {error.claim} claim is missing or wrong")
    else:
        why = "its signature does not match the sign-in service's keys"
    return SignInRefused(
        403,
        "Sign-in not accepted",
        f"pressgate did not accept the answer from your organisation's sign-in service: {why}. "
        + AGAIN,
        f"id_token refused: {type(error).__name__} {error}",
    )


def unreachable(error: Exception) -> SignInRefused:
    return SignInRefused(
        502,
        "Sign-in service unreachable",
        "pressgate could not reach your organisation's sign-in service, or did not understand "
        "its answer. Try again in a few minutes; if it keeps happening, tell whoever runs "
        "pressgate.",
        f"provider unreachable or answered badly: {type(error).__name__}: {error}"[:300],
    )


def require_in_map(request: Request, email: str) -> None:
    """Only people of the map in force get a session; anyone else gets the NotInMap page."""
    try:
        with session_scope(request.app.state.engine, read_only=True) as session:
            get_person(session, email)
    except NotFound:
        log.info("OIDC sign-in refused: %s is not in the permission map", email)
        raise NotInMap(email) from None


def refuse(request: Request, refused: SignInRefused) -> Response:
    sign_out(request)  # whatever the session held (the pending sign-in) goes
    log.info("OIDC sign-in refused: %s", refused.reason)
    return error_page(request, refused.status, refused.title, refused.detail)


def not_set_up(request: Request) -> Response:
    detail = (
        "Signing in with an organisation account is not set up here. Use another way in "
        "from the sign-in page."
    )
    return error_page(request, 404, "Not set up", detail)
