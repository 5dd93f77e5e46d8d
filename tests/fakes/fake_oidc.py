"""A small OpenID Connect provider on loopback, for the web sign-in tests.

Why: sign-in must be proven against real HTTP, real signatures and a provider that is strict
where real ones are (PKCE verifier, one-time codes, the registered redirect URI, client
authentication), without touching the internet. It speaks the authorization code flow only:
discovery, `/authorize` (signs in `email` at once, or answers `error=` when told to),
`/token` (an RS256 id_token signed with a key made at start) and `/jwks`. Knobs let a test
spoil the next id_token (audience, issuer, expiry, nonce, e-mail claims) or sign it with
another key; every request is recorded.
"""

import base64
import hashlib
import json
import secrets
import threading
import time
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey

DROP = object()  # a claim spoiled to DROP is left out of the id_token


def new_key(kid: str) -> RSAKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return RSAKey.import_key(private, {"kid": kid, "use": "sig", "alg": "RS256"})


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class Grant:
    """What an authorization code stands for until it is exchanged (once)."""

    email: str
    nonce: str | None
    challenge: str
    redirect_uri: str


class FakeOidc:
    """`with FakeOidc(redirect_uri=...) as provider:` serves on `provider.issuer`."""

    def __init__(
        self,
        *,
        redirect_uri: str,
        client_id: str = "pressgate-test",
        client_secret: str | None = "test-client-secret-not-for-production",
        auth_methods: tuple[str, ...] = ("client_secret_basic", "client_secret_post"),
        port: int = 0,
    ) -> None:
        self.redirect_uri = redirect_uri
        self.client_id = client_id
        self.client_secret = client_secret  # None: a public client (PKCE only)
        self.auth_methods = auth_methods
        self.email = "alice@example.org"  # who signs in at /authorize
        self.key = new_key("fake-oidc-1")
        self.advertised_issuer: str | None = None  # discovery names another issuer
        self._refuse: str | None = None
        self._spoil: dict[str, Any] = {}
        self._forge: RSAKey | None = None
        self._codes: dict[str, Grant] = {}
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # method, path, params
        self.issued: list[str] = []  # codes and tokens, so a test can look for leaks
        self.server_errors: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.fake = self  # type: ignore[attr-defined]
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> "FakeOidc":
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
        if kind is None:  # a bug in the fake fails the test that met it
            assert not self.server_errors, "bug in the fake OIDC provider:\n" + "\n".join(
                self.server_errors
            )

    def close(self) -> None:
        """Stop answering: the provider is down from now on."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    # -- knobs -------------------------------------------------------------------------------

    def refuse_next(self, error: str = "access_denied") -> None:
        """The next /authorize sends the browser back with `error=` instead of a code."""
        self._refuse = error

    def spoil_next(self, **claims: Any) -> None:
        """The next id_token carries these claims instead (DROP leaves a claim out)."""
        self._spoil = claims

    def forge_next(self) -> None:
        """The next id_token is signed with another key under the published key's id."""
        self._forge = new_key(self.key.kid or "")

    # -- the endpoints -----------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.advertised_issuer or self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": list(self.auth_methods),
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "email", "email_verified", "name", "nonce"],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """Redirect back with a code (or an error); refuse outright an unknown client or
        redirect URI, as real providers do (never redirect to an address not registered)."""
        if query.get("client_id") != self.client_id or query.get("redirect_uri") != (
            self.redirect_uri
        ):
            return 400, {}, "unknown client_id or redirect_uri"
        back: dict[str, str] = {"state": query["state"]} if "state" in query else {}
        if self._refuse:
            back["error"], self._refuse = self._refuse, None
        elif query.get("response_type") != "code" or "openid" not in query.get("scope", ""):
            back["error"] = "unsupported_response_type"
        elif query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            back["error"] = "invalid_request"  # this provider demands PKCE
        else:
            code = secrets.token_urlsafe(24)
            with self._lock:
                self._codes[code] = Grant(
                    self.email, query.get("nonce"), query["code_challenge"], self.redirect_uri
                )
            self.issued.append(code)
            back["code"] = code
        return 302, {"Location": f"{self.redirect_uri}?{urlencode(back)}"}, ""

    def token(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            if "client_secret_basic" not in self.auth_methods:
                return 401, {"error": "invalid_client", "error_description": "use the form"}
            raw = base64.b64decode(authorization[6:]).decode()
            client_id, _, secret = raw.partition(":")
        elif secret is not None and "client_secret_post" not in self.auth_methods:
            return 401, {"error": "invalid_client"}
        if client_id != self.client_id or (secret or None) != self.client_secret:
            return 401, {"error": "invalid_client"}
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # one use, right or wrong
        if form.get("grant_type") != "authorization_code" or grant is None:
            return 400, {"error": "invalid_grant", "error_description": "unknown or used code"}
        if form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri differs"}
        if s256(form.get("code_verifier", "")) != grant.challenge:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verifier"}
        access_token = secrets.token_urlsafe(24)
        id_token = self.id_token(grant)
        self.issued += [access_token, id_token]
        return 200, {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "openid email profile",
            "id_token": id_token,
        }

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": hashlib.sha256(grant.email.encode()).hexdigest()[:20],
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "email": grant.email,
            "email_verified": True,
            "name": grant.email.split("@")[0].title(),
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        claims.update(self._spoil)
        claims = {name: value for name, value in claims.items() if value is not DROP}
        key = self._forge or self.key
        self._spoil, self._forge = {}, None
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


class Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet: pytest shows failures
        pass

    @property
    def fake(self) -> FakeOidc:
        fake: FakeOidc = self.server.fake  # type: ignore[attr-defined]
        return fake

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query))
        self.fake.requests.append(("GET", parts.path, query))
        try:
            if parts.path == "/.well-known/openid-configuration":
                self.send_json(200, self.fake.discovery())
            elif parts.path == "/jwks":
                self.send_json(200, self.fake.jwks())
            elif parts.path == "/authorize":
                status, headers, text = self.fake.authorize(query)
                self.send(status, text.encode(), "text/plain", headers)
            else:
                self.send_json(404, {"error": "not_found"})
        except Exception:
            self.fake.server_errors.append(traceback.format_exc())
            self.send_json(500, {"error": "server_error"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode()))
        self.fake.requests.append(("POST", self.path, form))
        try:
            if self.path == "/token":
                status, body = self.fake.token(form, self.headers.get("Authorization"))
                self.send_json(status, body)
            else:
                self.send_json(404, {"error": "not_found"})
        except Exception:
            self.fake.server_errors.append(traceback.format_exc())
            self.send_json(500, {"error": "server_error"})

    def send_json(self, status: int, body: dict[str, Any]) -> None:
        self.send(status, json.dumps(body).encode(), "application/json", {})

    def send(self, status: int, body: bytes, kind: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
