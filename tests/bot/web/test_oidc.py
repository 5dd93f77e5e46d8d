"""Signing in with OpenID Connect, end to end: the real app (in-process) against the fake
provider on loopback, redirects followed by hand as a browser would. The app's own calls
(discovery, token, JWKS) go over real HTTP to the fake; nothing leaves the machine.

A person the map names signs in and lands where they were going; every other outcome
(a token that is not for us, not from our issuer, expired, for another sign-in, with no
verified e-mail, forged; a state that is not this browser's; the provider saying no; a
PKCE verifier that does not match; the provider down) is a clear page, a log line without
secrets, and no session.
"""

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bot.settings import Settings
from bot.web.app import create_app
from tests.bot.conftest import Cli, free_port
from tests.fakes.fake_oidc import DROP, FakeOidc

BASE_URL = "http://127.0.0.1:8000"
REDIRECT = f"{BASE_URL}/signin/oidc/callback"


@pytest.fixture
def provider() -> Iterator[FakeOidc]:
    with FakeOidc(redirect_uri=REDIRECT) as fake:
        yield fake


def oidc_settings(cli: Cli, provider: FakeOidc, **changes: Any) -> Settings:
    secret = provider.client_secret
    return cli.settings.model_copy(
        update={
            "oidc_issuer": provider.issuer,
            "oidc_client_id": provider.client_id,
            "oidc_client_secret": SecretStr(secret) if secret else None,
            "base_url": BASE_URL,
            **changes,
        }
    )


@contextmanager
def serve(cli: Cli, settings: Settings) -> Iterator[TestClient]:
    """The app in-process; its database pool is closed afterwards, because PostgreSQL's
    connection slots are shared by every test run on the machine."""
    app = create_app(settings, clock=cli.clock)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        app.state.engine.dispose()


class Visitor:
    """One browser: the app in-process, the provider over loopback, redirects by hand."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def start(self, next: str = "/") -> str:
        """Click "Sign in": the provider's authorization URL the app redirects to."""
        answer = self.client.get(
            f"/signin/oidc?next={quote(next, safe='')}", follow_redirects=False
        )
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]

    @staticmethod
    def at_provider(authorize_url: str) -> str:
        """The provider signs the person in: the callback path the browser is sent back to."""
        answer = httpx.get(authorize_url)
        assert answer.status_code == 302, answer.text
        location = answer.headers["location"]
        assert location.startswith(REDIRECT + "?"), "back to the registered redirect URI"
        return location.removeprefix(BASE_URL)

    def back(self, callback: str) -> httpx.Response:
        return self.client.get(callback, follow_redirects=False)

    def sign_in(self, next: str = "/") -> httpx.Response:
        return self.back(self.at_provider(self.start(next)))

    def signed_in(self) -> bool:
        home = self.client.get("/", follow_redirects=False)
        if home.status_code == 303:
            assert home.headers["location"].startswith("/signin")
            return False
        assert home.status_code == 200
        return True


@pytest.fixture
def visitor(cli: Cli, provider: FakeOidc) -> Iterator[Visitor]:
    with serve(cli, oidc_settings(cli, provider)) as client:
        yield Visitor(client)


def with_query(url: str, **changes: str | None) -> str:
    """`url` with query parameters changed (None removes one)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return parts._replace(query=urlencode(query)).geturl()


def assert_refused(
    answer: httpx.Response,
    status: int,
    words: str,
    visitor: Visitor,
    provider: FakeOidc,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A clear page, no session, one INFO line saying why, and no code or token in the log."""
    assert answer.status_code == status, answer.text
    assert words in answer.text
    assert "Traceback" not in answer.text
    assert not visitor.signed_in(), "a refused sign-in leaves no session"
    refusals = [r for r in caplog.records if "sign-in refused" in r.getMessage()]
    assert [r.levelno for r in refusals] == [logging.INFO]
    for secret in provider.issued:
        assert secret not in app_log(caplog), "codes and tokens are never logged"


def app_log(caplog: pytest.LogCaptureFixture) -> str:
    """What the app logged: not the test's own browser (httpx) or TestClient (httpcore)."""
    browser = ("httpx", "httpcore")
    records = [r for r in caplog.records if r.name.split(".")[0] not in browser]
    return "\n".join(f"{r.levelname} {r.name} {r.getMessage()}" for r in records)


@pytest.fixture(autouse=True)
def _info_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pressgate.web.oidc")


# -- signing in --------------------------------------------------------------------------------


def test_a_person_in_the_map_signs_in_and_lands_where_they_were_going(
    visitor: Visitor, provider: FakeOidc
) -> None:
    assert not visitor.signed_in()
    answer = visitor.sign_in(next="/guidance")
    assert answer.status_code == 303 and answer.headers["location"] == "/guidance"
    assert "Hello, Alice" in visitor.client.get("/").text
    [authorize] = [params for method, path, params in provider.requests if path == "/authorize"]
    assert authorize["code_challenge_method"] == "S256", "PKCE is asked for"
    assert len(authorize["nonce"]) >= 32 and len(authorize["state"]) >= 20
    assert authorize["redirect_uri"] == REDIRECT
    [token] = [params for method, path, params in provider.requests if path == "/token"]
    assert token["code_verifier"] and "client_secret" not in token, "secret sent by HTTP Basic"


@pytest.mark.usefixtures("debug_logging")
def test_nothing_secret_is_logged_even_at_debug(
    visitor: Visitor, provider: FakeOidc, caplog: pytest.LogCaptureFixture
) -> None:
    """Authlib logs the PKCE verifier at DEBUG, and httpx2 and httpcore2 log requests:
    `configure_logging` holds them at WARNING whatever level the operator asks for."""
    assert visitor.sign_in().status_code == 303
    logged = app_log(caplog)
    assert "signed in by OIDC: alice@example.org" in logged
    [token] = [params for method, path, params in provider.requests if path == "/token"]
    secrets = [token["code_verifier"], str(provider.client_secret), *provider.issued]
    for secret in secrets:
        assert secret not in logged, "a secret of the sign-in was logged"


def test_after_signing_in_the_person_goes_only_to_a_page_of_this_site(visitor: Visitor) -> None:
    answer = visitor.sign_in(next="//evil.example/phish")
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_a_long_next_neither_breaks_the_session_cookie_nor_is_followed(visitor: Visitor) -> None:
    authorize = visitor.start(next="/guidance?q=" + "x" * 5000)
    cookie = visitor.client.cookies["pressgate_session"]
    assert len(cookie) < 3000, "well under the 4 KB browsers keep"
    answer = visitor.back(visitor.at_provider(authorize))
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    nearly_full = visitor.start(next="/guidance?q=" + "x" * 980)
    assert len(visitor.client.cookies["pressgate_session"]) < 4000
    assert visitor.back(visitor.at_provider(nearly_full)).headers["location"].startswith("/guid")


def test_the_sign_in_page_offers_the_organisation_account(visitor: Visitor) -> None:
    page = visitor.client.get("/signin?next=/guidance").text
    assert 'href="/signin/oidc?next=/guidance"' in page


def test_a_public_client_signs_in_with_pkce_alone(cli: Cli) -> None:
    with (
        FakeOidc(redirect_uri=REDIRECT, client_secret=None) as provider,
        serve(cli, oidc_settings(cli, provider)) as client,
    ):
        visitor = Visitor(client)
        assert visitor.sign_in().status_code == 303
        assert visitor.signed_in()


def test_a_provider_that_takes_the_secret_only_in_the_form_gets_it_there(cli: Cli) -> None:
    """Sign in with Slack lists only client_secret_post in its discovery document."""
    with (
        FakeOidc(redirect_uri=REDIRECT, auth_methods=("client_secret_post",)) as provider,
        serve(cli, oidc_settings(cli, provider)) as client,
    ):
        visitor = Visitor(client)
        assert visitor.sign_in().status_code == 303
        assert visitor.signed_in()
        [token] = [params for method, path, params in provider.requests if path == "/token"]
        assert token["client_secret"] == provider.client_secret


def test_entra_ids_verified_domain_claim_counts_as_a_verified_email(
    visitor: Visitor, provider: FakeOidc
) -> None:
    provider.spoil_next(email_verified=DROP, xms_edov=True)
    assert visitor.sign_in().status_code == 303
    assert visitor.signed_in()


def test_a_token_a_few_seconds_past_expiry_is_accepted_as_clock_skew(
    visitor: Visitor, provider: FakeOidc
) -> None:
    now = int(time.time())
    provider.spoil_next(exp=now - 5, iat=now - 305)
    assert visitor.sign_in().status_code == 303
    assert visitor.signed_in()


# -- refused: the id_token -----------------------------------------------------------------


def _expired() -> dict[str, Any]:
    """A minute past its expiry: Authlib's default leeway (120 s) would still accept it."""
    now = int(time.time())
    return {"exp": now - 60, "iat": now - 360}


SPOILED: dict[str, tuple[Callable[[FakeOidc], dict[str, Any]], int, str]] = {
    "wrong audience": (lambda p: {"aud": "another-app"}, 403, "made for another application"),
    "wrong audience naming us as authorised party": (
        lambda p: {"aud": "another-app", "azp": p.client_id},
        403,
        "made for another application",
    ),
    "wrong issuer": (lambda p: {"iss": "https://evil.example"}, 403, "from another issuer"),
    "expired": (lambda p: _expired(), 403, "it has expired"),
    "nonce mismatch": (lambda p: {"nonce": "another-sign-in"}, 403, "another sign-in"),
    "nonce missing": (lambda p: {"nonce": DROP}, 403, "another sign-in"),
    "unverified e-mail": (lambda p: {"email_verified": False}, 403, "does not vouch"),
    "e-mail verified only in words": (lambda p: {"email_verified": "true"}, 403, "not vouch"),
    "Entra domain not verified": (
        lambda p: {"email_verified": DROP, "xms_edov": False},
        403,
        "does not vouch",
    ),
    "no e-mail": (lambda p: {"email": DROP}, 403, "did not tell pressgate your e-mail"),
}


@pytest.mark.parametrize("case", list(SPOILED))
def test_an_id_token_that_cannot_be_trusted_is_refused(
    case: str, visitor: Visitor, provider: FakeOidc, caplog: pytest.LogCaptureFixture
) -> None:
    claims, status, words = SPOILED[case]
    provider.spoil_next(**claims(provider))
    answer = visitor.sign_in()
    assert_refused(answer, status, words, visitor, provider, caplog)


def test_a_forged_id_token_is_refused(
    visitor: Visitor, provider: FakeOidc, caplog: pytest.LogCaptureFixture
) -> None:
    provider.forge_next()
    answer = visitor.sign_in()
    assert_refused(answer, 403, "signature does not match", visitor, provider, caplog)


def test_someone_the_map_does_not_name_gets_the_not_in_map_page_and_no_session(
    visitor: Visitor, provider: FakeOidc, caplog: pytest.LogCaptureFixture
) -> None:
    provider.email = "stranger@example.org"
    answer = visitor.sign_in()
    assert_refused(
        answer, 403, "the permission map does not name that address", visitor, provider, caplog
    )
    assert "stranger@example.org" in answer.text


# -- refused: the browser's way back -------------------------------------------------------


@pytest.mark.parametrize("state", ["forged-state", None])
def test_a_tampered_or_missing_state_is_refused(
    state: str | None, visitor: Visitor, provider: FakeOidc, caplog: pytest.LogCaptureFixture
) -> None:
    callback = visitor.at_provider(visitor.start())
    answer = visitor.back(with_query(callback, state=state))
    assert_refused(answer, 400, "did not start in this browser", visitor, provider, caplog)
    assert not [path for _, path, _ in provider.requests if path == "/token"], "code not used"


def test_a_sign_in_started_in_another_browser_is_refused(
    cli: Cli, visitor: Visitor, provider: FakeOidc, caplog: pytest.LogCaptureFixture
) -> None:
    """Login CSRF: an attacker's own code and state, planted in the victim's browser."""
    callback = visitor.at_provider(visitor.start())
    with serve(cli, oidc_settings(cli, provider)) as victim_client:
        victim = Visitor(victim_client)
        answer = victim.back(callback)
        assert_refused(answer, 400, "did not start in this browser", victim, provider, caplog)


def test_a_callback_cannot_be_replayed(
    visitor: Visitor, provider: FakeOidc, caplog: pytest.LogCaptureFixture
) -> None:
    callback = visitor.at_provider(visitor.start())
    assert visitor.back(callback).status_code == 303
    visitor.client.cookies.clear()  # signed out
    caplog.clear()
    assert_refused(visitor.back(callback), 400, "already used", visitor, provider, caplog)


def test_the_provider_saying_no_is_refused(
    visitor: Visitor, provider: FakeOidc, caplog: pytest.LogCaptureFixture
) -> None:
    provider.refuse_next("access_denied")
    answer = visitor.sign_in()
    assert_refused(answer, 403, "did not sign you in (access_denied)", visitor, provider, caplog)


def test_a_pkce_verifier_that_does_not_match_is_refused(
    visitor: Visitor, provider: FakeOidc, caplog: pytest.LogCaptureFixture
) -> None:
    """Someone swapped the challenge on the way to the provider: the code it issues is useless
    with this session's verifier, and the provider refuses the exchange."""
    authorize = with_query(visitor.start(), code_challenge="A" * 43)
    answer = visitor.back(visitor.at_provider(authorize))
    assert_refused(
        answer, 400, "would not complete this sign-in (invalid_grant)", visitor, provider, caplog
    )


# -- refused: the provider down or misconfigured -----------------------------------------


def test_an_unreachable_provider_gives_a_clear_502_until_it_is_back(
    cli: Cli, caplog: pytest.LogCaptureFixture
) -> None:
    """The app starts with the provider down (discovery is read at the first sign-in), says
    so clearly while it is down, and signs people in once it is back."""
    port = free_port()
    settings = cli.settings.model_copy(
        update={
            "oidc_issuer": f"http://127.0.0.1:{port}",
            "oidc_client_id": "pressgate-test",
            "oidc_client_secret": SecretStr("test-client-secret-not-for-production"),
            "base_url": BASE_URL,
        }
    )
    with serve(cli, settings) as client:
        assert client.get("/healthz").status_code == 200
        answer = client.get("/signin/oidc?next=/", follow_redirects=False)
        assert answer.status_code == 502
        assert "could not reach your organisation" in answer.text
        assert "Traceback" not in answer.text
        assert "sign-in refused" in caplog.text
        with FakeOidc(redirect_uri=REDIRECT, port=port):
            visitor = Visitor(client)
            assert visitor.sign_in().status_code == 303
            assert visitor.signed_in()


def test_the_provider_going_down_before_the_code_exchange_gives_a_502(
    visitor: Visitor, provider: FakeOidc, caplog: pytest.LogCaptureFixture
) -> None:
    callback = visitor.at_provider(visitor.start())
    provider.close()
    answer = visitor.back(callback)
    assert_refused(answer, 502, "could not reach", visitor, provider, caplog)


def test_a_wrong_client_secret_is_the_operators_problem_and_says_so(
    cli: Cli, provider: FakeOidc, caplog: pytest.LogCaptureFixture
) -> None:
    settings = oidc_settings(cli, provider, oidc_client_secret=SecretStr("not-the-secret"))
    with serve(cli, settings) as client:
        visitor = Visitor(client)
        answer = visitor.sign_in()
        assert_refused(answer, 502, "(invalid_client)", visitor, provider, caplog)
        assert "not-the-secret" not in app_log(caplog)


def test_a_discovery_document_for_another_issuer_is_refused_naming_it(
    visitor: Visitor, provider: FakeOidc, caplog: pytest.LogCaptureFixture
) -> None:
    """Entra ID's multi-tenant endpoint names `{tenantid}` as its issuer: not ours."""
    provider.advertised_issuer = "https://login.microsoftonline.com/{tenantid}/v2.0"
    answer = visitor.client.get("/signin/oidc", follow_redirects=False)
    assert_refused(
        answer, 502, "login.microsoftonline.com/{tenantid}/v2.0", visitor, provider, caplog
    )
    assert not [path for _, path, _ in provider.requests if path == "/authorize"]


def test_without_oidc_settings_the_route_says_it_is_not_set_up(cli: Cli) -> None:
    with serve(cli, cli.settings) as client:
        answer = client.get("/signin/oidc", follow_redirects=False)
        assert answer.status_code == 404 and "not set up here" in answer.text
        assert "/signin/oidc" not in client.get("/signin").text
