"""The duty page: pause and resume an account or everything, take a post down from X, see
what holds publishing and which accounts are connected. The same services as the CLI: a
duty officer's request works and is audited `via: web`; anyone else's changes nothing."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from bot.web.app import create_app
from tests.bot.conftest import Cli, every_row
from tests.bot.publishing_world import connect_account, x_settings
from tests.bot.web.conftest import TRUSTED, Web, web_settings
from tests.bot.web.published import approved, publish_due
from tests.fakes.fake_x import FakeUser, FakeX


def _last_entry(cli: Cli) -> dict[str, Any]:
    last: dict[str, Any] = json.loads(cli.ok("audit", "export").stdout.splitlines()[-1])
    return last


def _board(web: Web) -> Any:
    page = web.client.get("/duty")
    assert page.status_code == 200, page.text
    assert page.template.name == "pages/duty.html"
    return page


@dataclass
class OnX:
    """The web app wired to the fake X, with @DeptHelp connected to its X account."""

    web: Web
    fake: FakeX
    user: FakeUser


@pytest.fixture
def on_x(cli: Cli) -> Iterator[OnX]:
    with FakeX() as fake:
        user = fake.add_user("DeptHelp")
        engine = cli.engine
        connect_account(engine, cli.clock, "@DeptHelp", user)
        engine.dispose()
        settings = web_settings(
            cli,
            **x_settings(fake).model_dump(
                include={
                    "secret_key",
                    "x_api_url",
                    "x_consumer_key",
                    "x_consumer_secret",
                    "x_client_id",
                    "x_client_secret",
                    "x_timeout",
                }
            ),
        )
        app = create_app(settings, clock=cli.clock)
        with TestClient(app, client=TRUSTED) as client:
            yield OnX(Web(client, cli), fake, user)
        app.state.engine.dispose()
    assert not fake.server_errors, fake.server_errors


def _published(cli: Cli, on_x: OnX) -> int:
    post = approved(cli, "Office closed on Friday", at="2026-11-24 12:05")
    settings = on_x.web.client.app.state.settings  # type: ignore[attr-defined]
    assert publish_due(cli, settings, after=timedelta(minutes=10)) == 1
    assert [p.text for p in on_x.fake.posts if not p.deleted] == ["Office closed on Friday"]
    return post


def test_the_duty_officer_sees_the_state_of_everything_and_every_brake(web: Web) -> None:
    page = _board(web.sign_in("sam@example.org"))
    board = page.context["board"]
    assert not board.everything.paused and board.may_pause_all and board.may_take_down
    assert [(a.handle, a.pause.paused, a.connected_as, a.may_pause) for a in board.accounts] == [
        ("@DeptNews", False, None, True),
        ("@DeptHelp", False, None, True),
    ]
    assert board.active_blackouts == []
    assert board.next_blackout.name == "Pre-election period (example)"
    assert "2027-04-20 00:00 BST" in page.text and "on @DeptNews" in page.text
    for form in ('action="/duty/pause"', 'action="/duty/takedown"', "Pause all publishing"):
        assert form in page.text
    assert "no X app credentials" in page.text, "this process's publisher mode"


def test_an_officer_sees_the_state_but_no_forms(web: Web) -> None:
    page = _board(web.sign_in("alice@example.org"))
    assert not page.context["board"].may_pause_all
    assert "/duty/pause" not in page.text and "/duty/resume" not in page.text
    assert "/duty/takedown" not in page.text
    assert "The map does not let you pause it." in page.text


def test_the_duty_officer_pauses_and_resumes_an_account(web: Web, cli: Cli) -> None:
    web.sign_in("sam@example.org")
    answer = web.post("/duty/pause", {"account": "@DeptNews", "reason": "Incident at HQ"})
    assert answer.status_code == 303 and answer.headers["location"] == "/duty"
    entry = _last_entry(cli)
    assert (entry["actor"], entry["action"], entry["subject"]) == (
        "sam@example.org",
        "publishing.pause",
        "account:deptnews",
    )
    assert entry["details"] == {"reason": "Incident at HQ", "via": "web"}
    page = _board(web)
    assert "Paused: @DeptNews" in page.text, "the notice after the redirect"
    (news, help_) = page.context["board"].accounts
    assert (news.pause.paused, news.pause.by, news.pause.reason) == (
        True,
        "sam@example.org",
        "Incident at HQ",
    )
    assert not help_.pause.paused
    assert "Resume @DeptNews" in page.text

    assert web.post("/duty/resume", {"account": "@DeptNews"}).status_code == 303
    assert _last_entry(cli)["action"] == "publishing.resume"
    assert _last_entry(cli)["details"] == {"via": "web"}
    assert not _board(web).context["board"].accounts[0].pause.paused


def test_the_duty_officer_pauses_and_resumes_everything(web: Web, cli: Cli) -> None:
    web.sign_in("sam@example.org")
    assert web.post("/duty/pause", {"account": "all", "reason": "Crisis"}).status_code == 303
    assert _last_entry(cli)["subject"] == "publishing:all"
    page = _board(web)
    assert page.context["board"].everything.paused
    assert "PAUSED everywhere" in page.text and "Ask to resume all publishing" in page.text
    assert web.post("/duty/resume", {"account": "all"}).status_code == 303
    assert _last_entry(cli)["action"] == "publishing.resume_requested"
    page = _board(web)
    assert page.context["board"].everything.paused, "one person cannot lift it"
    assert "Resume asked by sam@example.org" in page.text
    web.sign_in("lee@example.org")
    assert "Confirm: resume all publishing" in _board(web).text
    assert web.post("/duty/resume", {"account": "all"}).status_code == 303
    assert (_last_entry(cli)["action"], _last_entry(cli)["details"]) == (
        "publishing.resume",
        {"via": "web", "requested_by": "sam@example.org", "confirmed_by": "lee@example.org"},
    )
    assert not _board(web).context["board"].everything.paused


@pytest.mark.parametrize(
    ("url", "form", "status", "words"),
    [
        (
            "/duty/pause",
            {"account": "@DeptNews", "reason": "  "},
            422,
            "give a reason for the pause",
        ),
        ("/duty/pause", {"reason": "why"}, 422, "choose an account"),
        ("/duty/pause", {"account": "@Nobody", "reason": "why"}, 404, "@Nobody is not in the"),
        ("/duty/pause", {"account": "@PermSecPersonal", "reason": "x"}, 409, "personal account"),
        ("/duty/resume", {"account": "@DeptHelp"}, 409, "@DeptHelp is already not paused"),
        ("/duty/takedown", {"post": "abc", "reason": "x"}, 422, "'abc' is not a post number"),
        ("/duty/takedown", {"post": "1", "reason": ""}, 422, "give a reason for the takedown"),
    ],
)
def test_bad_requests_are_refused_on_the_page_and_change_nothing(
    web: Web, cli: Cli, url: str, form: dict[str, str], status: int, words: str
) -> None:
    web.sign_in("sam@example.org")
    web.csrf()
    before = every_row(cli)
    answer = web.post(url, form)
    assert answer.status_code == status
    assert answer.template.name == "pages/duty.html"
    assert "Refused, nothing changed:" in answer.text
    assert words.replace("'", "&#39;") in answer.text
    assert every_row(cli) == before


@pytest.mark.parametrize(
    ("url", "form", "words"),
    [
        ("/duty/pause", {"account": "@DeptNews", "reason": "r"}, "may not pause on @DeptNews"),
        ("/duty/pause", {"account": "all", "reason": "r"}, "may not pause on every account"),
        ("/duty/resume", {"account": "@DeptHelp"}, "may not pause on @DeptHelp"),
        ("/duty/resume", {"account": "all"}, "may not pause on every account"),
    ],
)
@pytest.mark.parametrize("email", ["alice@example.org", "bob@example.org", "dana@example.org"])
def test_people_without_the_pause_right_are_refused_and_nothing_changes(
    web: Web, cli: Cli, url: str, form: dict[str, str], words: str, email: str
) -> None:
    cli.ok("pause", "@DeptHelp", "--as", "sam@example.org", "--reason", "drill")
    cli.ok("pause", "--all", "--as", "sam@example.org", "--reason", "drill")
    web.sign_in(email)
    web.csrf()
    before = every_row(cli)
    answer = web.post(url, form)
    assert answer.status_code == 403
    assert f"{email} {words}" in answer.text
    assert every_row(cli) == before


def test_a_form_without_the_csrf_token_or_a_session_changes_nothing(web: Web, cli: Cli) -> None:
    before = every_row(cli)
    web.sign_in("sam@example.org")
    forged = web.client.post(
        "/duty/pause",
        data={"account": "all", "reason": "x", "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert forged.status_code == 403 and "Form expired" in forged.text
    assert web.client.get("/duty/pause").status_code == 405, "no state change on GET"
    token = web.csrf()
    web.sign_in(None)
    anonymous = web.client.post(
        "/duty/pause", data={"account": "all", "reason": "x", "csrf_token": token}
    )
    assert anonymous.url.path == "/signin"
    assert every_row(cli) == before


def test_the_duty_officer_takes_a_post_down_from_x(on_x: OnX, cli: Cli) -> None:
    post = _published(cli, on_x)
    web = on_x.web.sign_in("sam@example.org")
    answer = web.post("/duty/takedown", {"post": str(post), "reason": "Wrong date"})
    assert answer.status_code == 303, answer.text
    assert [p.text for p in on_x.fake.posts if not p.deleted] == []
    assert cli.json("show", str(post))["state"] == "taken_down"
    entry = _last_entry(cli)
    assert (entry["actor"], entry["action"], entry["subject"]) == (
        "sam@example.org",
        "post.taken_down",
        f"post:{post}",
    )
    assert entry["details"]["via"] == "web" and entry["details"]["reason"] == "Wrong date"
    assert f"Post {post} was taken down from X." in _board(web).text


@pytest.mark.parametrize("email", ["alice@example.org", "bob@example.org", "dana@example.org"])
def test_a_takedown_by_anyone_else_is_refused_and_the_post_stays_up(
    on_x: OnX, cli: Cli, email: str
) -> None:
    post = _published(cli, on_x)
    web = on_x.web.sign_in(email)
    web.csrf()
    before = every_row(cli)
    answer = web.post("/duty/takedown", {"post": str(post), "reason": "Mistake"})
    assert answer.status_code == 403
    assert f"{email} may not takedown on @DeptHelp" in answer.text
    assert every_row(cli) == before
    assert [p.text for p in on_x.fake.posts if not p.deleted] == ["Office closed on Friday"]


def test_a_takedown_of_a_post_that_is_not_up_is_refused(on_x: OnX, cli: Cli) -> None:
    draft = cli.json("draft", "--as", "alice@example.org", "-a", "@DeptHelp", "--text", "Draft")
    web = on_x.web.sign_in("sam@example.org")
    web.csrf()
    before = every_row(cli)
    missing = web.post("/duty/takedown", {"post": "999", "reason": "x"})
    assert missing.status_code == 404 and "post 999 does not exist" in missing.text
    not_up = web.post("/duty/takedown", {"post": str(draft["id"]), "reason": "x"})
    assert not_up.status_code == 409 and "only published posts come down" in not_up.text
    assert every_row(cli) == before


def test_without_x_credentials_a_takedown_says_why_and_changes_nothing(web: Web, cli: Cli) -> None:
    web.sign_in("sam@example.org")
    web.csrf()
    before = every_row(cli)
    answer = web.post("/duty/takedown", {"post": "1", "reason": "x"})
    assert answer.status_code == 409
    assert "no X app credentials" in answer.text
    assert every_row(cli) == before


def test_the_page_shows_which_accounts_are_connected_and_never_a_token(on_x: OnX, cli: Cli) -> None:
    page = _board(on_x.web.sign_in("sam@example.org"))
    (news, help_) = page.context["board"].accounts
    assert (news.connected_as, help_.connected_as) == (None, "DeptHelp")
    assert help_.connected_at == cli.clock.now()
    assert "Yes, as @DeptHelp" in page.text
    engine = cli.engine
    with engine.connect() as conn:
        (ciphertext,) = conn.execute(text("SELECT ciphertext FROM credential")).one()
    engine.dispose()
    user, fake = on_x.user, on_x.fake
    secrets = {
        user.access_token,
        user.access_token_secret,
        user.bearer_token,
        user.refresh_token,
        fake.consumer_secret,
        fake.client_secret,
        bytes(ciphertext).decode("ascii"),  # Fernet tokens are URL-safe base64 text
        bytes(ciphertext).hex(),
    }
    shown = page.text + json.dumps(dict(page.headers))
    for secret in secrets:
        assert secret not in shown
    assert "To X, through each account" in page.text
