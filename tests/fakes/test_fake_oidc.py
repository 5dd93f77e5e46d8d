"""The fake OIDC provider, driven by hand over real HTTP: it must be as strict as a real one
(PKCE, one-time codes, client authentication, the registered redirect URI) and its knobs
must spoil exactly the next id_token, or the sign-in tests prove nothing."""

import base64
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from tests.fakes.fake_oidc import DROP, FakeOidc, s256

REDIRECT = "http://127.0.0.1:8000/signin/oidc/callback"


@pytest.fixture
def provider() -> Iterator[FakeOidc]:
    with FakeOidc(redirect_uri=REDIRECT) as fake:
        yield fake


def authorize(provider: FakeOidc, verifier: str, **changes: str) -> dict[str, str]:
    """Visit /authorize as a browser would; the query the provider sends the browser back with."""
    query = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid email profile",
        "state": "state-1",
        "nonce": "nonce-1",
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
        **changes,
    }
    answer = httpx.get(f"{provider.issuer}/authorize?{urlencode(query)}")
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def exchange(provider: FakeOidc, code: str, verifier: str, **changes: Any) -> httpx.Response:
    basic = base64.b64encode(f"{provider.client_id}:{provider.client_secret}".encode()).decode()
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    headers = {"Authorization": f"Basic {basic}"}
    headers.update(changes.pop("headers", {}))
    return httpx.post(f"{provider.issuer}/token", data={**form, **changes}, headers=headers)


def claims_of(provider: FakeOidc, id_token: str) -> dict[str, Any]:
    keys = KeySet.import_key_set(httpx.get(f"{provider.issuer}/jwks").json())
    return dict(jwt.decode(id_token, keys).claims)


def test_discovery_names_its_loopback_endpoints(provider: FakeOidc) -> None:
    document = httpx.get(f"{provider.issuer}/.well-known/openid-configuration").json()
    assert document["issuer"] == provider.issuer
    assert document["token_endpoint"] == f"{provider.issuer}/token"
    assert document["code_challenge_methods_supported"] == ["S256"]


def test_a_code_becomes_an_id_token_signed_with_the_published_key(provider: FakeOidc) -> None:
    verifier = secrets.token_urlsafe(48)
    back = authorize(provider, verifier)
    assert back["state"] == "state-1"
    answer = exchange(provider, back["code"], verifier)
    assert answer.status_code == 200
    claims = claims_of(provider, answer.json()["id_token"])
    assert claims["iss"] == provider.issuer and claims["aud"] == provider.client_id
    assert claims["nonce"] == "nonce-1"
    assert (claims["email"], claims["email_verified"]) == ("alice@example.org", True)
    assert claims["iat"] < claims["exp"]


def test_a_code_is_refused_with_the_wrong_verifier_and_after_its_one_use(
    provider: FakeOidc,
) -> None:
    verifier = secrets.token_urlsafe(48)
    code = authorize(provider, verifier)["code"]
    wrong = exchange(provider, code, secrets.token_urlsafe(48))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    again = exchange(provider, code, verifier)
    assert again.status_code == 400, "a code is spent by any attempt, right or wrong"


def test_the_token_endpoint_checks_the_client_and_the_redirect_uri(provider: FakeOidc) -> None:
    verifier = secrets.token_urlsafe(48)
    code = authorize(provider, verifier)["code"]
    forged = base64.b64encode(f"{provider.client_id}:guess".encode()).decode()
    refused = exchange(provider, code, verifier, headers={"Authorization": f"Basic {forged}"})
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    code = authorize(provider, verifier)["code"]
    moved = exchange(provider, code, verifier, redirect_uri="http://127.0.0.1:9/elsewhere")
    assert moved.status_code == 400


def test_a_provider_that_takes_the_secret_only_in_the_form_refuses_basic() -> None:
    with FakeOidc(redirect_uri=REDIRECT, auth_methods=("client_secret_post",)) as provider:
        verifier = secrets.token_urlsafe(48)
        code = authorize(provider, verifier)["code"]
        assert exchange(provider, code, verifier).status_code == 401
        code = authorize(provider, verifier)["code"]
        form = exchange(
            provider,
            code,
            verifier,
            headers={"Authorization": ""},
            client_id=provider.client_id,
            client_secret=provider.client_secret,
        )
        assert form.status_code == 200


def test_authorize_never_redirects_to_an_unregistered_address(provider: FakeOidc) -> None:
    query = urlencode({"client_id": provider.client_id, "redirect_uri": "https://evil.example/"})
    answer = httpx.get(f"{provider.issuer}/authorize?{query}")
    assert answer.status_code == 400 and "location" not in answer.headers


def test_authorize_demands_pkce_and_answers_an_error_when_told(provider: FakeOidc) -> None:
    verifier = secrets.token_urlsafe(48)
    assert authorize(provider, verifier, code_challenge_method="plain")["error"] == (
        "invalid_request"
    )
    provider.refuse_next("access_denied")
    refused = authorize(provider, verifier)
    assert refused == {"error": "access_denied", "state": "state-1"}
    assert "code" in authorize(provider, verifier), "only the next one is refused"


def test_a_spoiled_id_token_is_only_the_next_one(provider: FakeOidc) -> None:
    verifier = secrets.token_urlsafe(48)
    provider.spoil_next(aud="another-app", email=DROP)
    code = authorize(provider, verifier)["code"]
    spoiled = claims_of(provider, exchange(provider, code, verifier).json()["id_token"])
    assert spoiled["aud"] == "another-app" and "email" not in spoiled
    code = authorize(provider, verifier)["code"]
    plain = claims_of(provider, exchange(provider, code, verifier).json()["id_token"])
    assert plain["aud"] == provider.client_id and plain["email"] == "alice@example.org"


def test_a_forged_id_token_fails_against_the_published_keys(provider: FakeOidc) -> None:
    verifier = secrets.token_urlsafe(48)
    provider.forge_next()
    code = authorize(provider, verifier)["code"]
    with pytest.raises(BadSignatureError):
        claims_of(provider, exchange(provider, code, verifier).json()["id_token"])
