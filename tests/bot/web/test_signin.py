"""Signing in: nobody sees anything before they do; an e-mail the map does not name gets a
clear page and no session; the proxy header is believed only from the proxy; the demo
picker exists only in the demo; every form needs the session's CSRF token."""

from fastapi.testclient import TestClient

from bot.web.app import create_app
from tests.bot.conftest import Cli
from tests.bot.web.conftest import PROXY_HEADER, Web, web_settings

ALICE = ("--as", "alice@example.org")


def test_nobody_signed_in_is_sent_to_the_sign_in_page(web: Web) -> None:
    answer = web.client.get("/", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=%2F"


def test_a_press_officer_sees_their_drafts_on_the_home_page(web: Web, cli: Cli) -> None:
    cli.ok("draft", *ALICE, "-a", "@DeptNews", "--text", "Annual report next week")
    page = web.sign_in("alice@example.org").client.get("/")
    assert page.status_code == 200
    assert "Annual report next week" in page.text
    assert page.headers["cache-control"] == "no-store", "unpublished words are not cached"


def test_an_approver_sees_what_awaits_their_decision(web: Web, cli: Cli) -> None:
    post = cli.json("draft", *ALICE, "-a", "@DeptNews", "--text", "Needs sign-off", "--submit")
    page = web.sign_in("bob@example.org").client.get("/").text
    assert "Awaiting your decision" in page and f"/posts/{post['id']}" in page
    cli.ok("approve", str(post["id"]), "--as", "bob@example.org")
    assert f"/posts/{post['id']}" not in web.client.get("/").text, "decided: no longer waiting"


def test_someone_the_map_does_not_name_gets_a_clear_page_and_no_session(web: Web) -> None:
    page = web.sign_in("stranger@example.org").client.get("/")
    assert page.status_code == 403
    assert "the permission map does not name that address" in page.text
    assert "stranger@example.org" in page.text


def test_the_proxy_header_is_believed_only_from_the_proxy(cli: Cli) -> None:
    app = create_app(web_settings(cli), clock=cli.clock)
    with TestClient(app, client=("10.1.2.3", 40000)) as elsewhere:
        answer = elsewhere.get(
            "/", headers={PROXY_HEADER: "alice@example.org"}, follow_redirects=False
        )
    assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")


def test_the_demo_picker_exists_only_in_the_demo(web: Web, cli: Cli) -> None:
    refused = web.post("/signin/demo", {"email": "alice@example.org"})
    assert refused.status_code == 404
    demo = create_app(cli.settings.for_demo(), clock=cli.clock)
    with TestClient(demo) as browser:
        page = browser.get("/signin").text
        assert "Sign in as Alice" in page or "alice@example.org" in page
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        answer = browser.post(
            "/signin/demo",
            data={"csrf_token": token, "email": "alice@example.org", "next": "//evil.example"},
            follow_redirects=False,
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/", "no open redirect"
        assert "Hello, " in browser.get("/").text


def test_a_form_without_the_sessions_csrf_token_is_refused(web: Web) -> None:
    web.sign_in("alice@example.org")
    forged = web.client.post("/signout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert forged.status_code == 403 and "Form expired" in forged.text
    missing = web.client.post("/signout", follow_redirects=False)
    assert missing.status_code == 403
    assert web.post("/signout").status_code == 303
