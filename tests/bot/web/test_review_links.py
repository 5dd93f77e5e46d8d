"""`/a/{token}`, the signed review link in an approver's Slack DM: GET shows the review page
and changes nothing; POST with the page's CSRF token decides once, for the link's approver
only; an expired, used, altered or someone else's link decides nothing and changes nothing
(rows and audit head)."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from approvals.db import session_scope
from approvals.map_store import get_person
from approvals.signoff.review_links import LinkSigner
from bot.web.app import create_app
from tests.bot.conftest import Cli, every_row
from tests.bot.publishing_world import SECRET
from tests.bot.web.conftest import CSRF, PROXY_HEADER, TRUSTED, web_settings
from tests.bot.web.post_world import ALICE, audit_entries, drafted, review_of

HOURS = 48


def link_for(cli: Cli, post: dict[str, Any], email: str, *, revision_hash: str = "") -> str:
    with session_scope(cli.engine, read_only=True) as session:
        approver = get_person(session, email).id
    assert approver is not None
    signer = LinkSigner.from_secret(SECRET, hours=HOURS)
    return signer.issue(
        post_id=post["id"],
        revision_hash=revision_hash or post["revision_hash"],
        approver_id=approver,
        now=cli.clock.now(),
    )


def submitted(cli: Cli) -> Any:
    return drafted(cli, "--text", "Applications open on Monday.", "--submit")


@pytest.fixture
def browser(cli: Cli) -> Iterator[TestClient]:
    """A browser with no sign-in set up on the server: the link alone names the approver."""
    settings = cli.settings.model_copy(update={"secret_key": SecretStr(SECRET)})
    app = create_app(settings, clock=cli.clock)
    with TestClient(app, client=TRUSTED) as client:
        yield client
    app.state.engine.dispose()


@pytest.fixture
def sso(cli: Cli) -> Iterator[TestClient]:
    """Behind an SSO proxy: who is signed in comes in a header the proxy sets."""
    app = create_app(web_settings(cli, secret_key=SecretStr(SECRET)), clock=cli.clock)
    with TestClient(app, client=TRUSTED) as client:
        yield client
    app.state.engine.dispose()


def csrf_of(page: Any) -> str:
    found = CSRF.search(page.text)
    assert found
    return found.group(1)


def decide(client: TestClient, token: str, **form: str) -> Any:
    """Open the link, then send its form as the page's button would."""
    csrf = csrf_of(client.get(f"/a/{token}"))
    return client.post(f"/a/{token}", data={"csrf_token": csrf, **form}, follow_redirects=False)


def test_a_get_shows_the_review_page_and_changes_nothing(browser: TestClient, cli: Cli) -> None:
    post = submitted(cli)
    token = link_for(cli, post, "bob@example.org")
    before = every_row(cli)
    page = browser.get(f"/a/{token}")
    assert page.status_code == 200 and page.template.name == "pages/review_link.html"
    assert page.headers["cache-control"] == "no-store"
    assert "Applications open on Monday." in page.text
    assert f'<code class="hash">{post["revision_hash"]}</code>' in page.text
    assert review_of(page).actions == {"approve", "reject"}
    assert page.text.count(f'action="/a/{token}"') == 2
    assert 'name="decision" value="approve"' in page.text
    assert "for one decision, and only for you" in page.text
    assert every_row(cli) == before


def test_a_post_with_the_pages_token_approves_via_the_link(browser: TestClient, cli: Cli) -> None:
    post = submitted(cli)
    token = link_for(cli, post, "bob@example.org")
    answer = decide(browser, token, decision="approve")
    assert answer.status_code == 303 and answer.headers["location"] == f"/a/{token}"
    assert cli.json("show", str(post["id"]))["approvals"] == ["bob@example.org"]
    entry = audit_entries(cli, post["id"])[-1]
    assert entry["action"] == "approval.approve" and entry["details"]["via"] == "link"
    page = browser.get(f"/a/{token}")
    assert "Approved revision 1: 1 of 2 approvals count." in page.text
    assert "You have already decided with this link" in page.text
    assert f'action="/a/{token}"' not in page.text


def test_a_link_rejects_with_the_reason_given(browser: TestClient, cli: Cli) -> None:
    post = submitted(cli)
    token = link_for(cli, post, "carol@example.org")
    answer = decide(browser, token, decision="reject", reason="Wrong date.")
    assert answer.status_code == 303
    shown = cli.json("show", str(post["id"]))
    assert shown["state"] == "rejected" and shown["state_reason"] == "Wrong date."


def test_a_rejection_without_a_reason_is_refused_and_the_link_stays_unused(
    browser: TestClient, cli: Cli
) -> None:
    post = submitted(cli)
    token = link_for(cli, post, "carol@example.org")
    before = every_row(cli)
    answer = decide(browser, token, decision="reject", reason="  ")
    assert answer.status_code == 422
    assert "say why the post is rejected" in answer.text
    assert every_row(cli) == before
    assert decide(browser, token, decision="approve").status_code == 303


def test_a_link_used_twice_is_refused_and_changes_nothing(browser: TestClient, cli: Cli) -> None:
    post = submitted(cli)
    token = link_for(cli, post, "bob@example.org")
    csrf = csrf_of(browser.get(f"/a/{token}"))
    first = browser.post(f"/a/{token}", data={"csrf_token": csrf, "decision": "approve"})
    assert first.status_code == 200  # followed to the page
    before = every_row(cli)
    again = browser.post(
        f"/a/{token}",
        data={"csrf_token": csrf, "decision": "reject", "reason": "Changed my mind."},
        follow_redirects=False,
    )
    assert again.status_code == 410
    assert "already been used for a decision" in again.text
    assert every_row(cli) == before


def test_an_expired_link_is_refused_and_changes_nothing(browser: TestClient, cli: Cli) -> None:
    post = submitted(cli)
    token = link_for(cli, post, "bob@example.org")
    csrf = csrf_of(browser.get(f"/a/{token}"))
    cli.clock.advance(timedelta(hours=HOURS))
    before = every_row(cli)
    page = browser.get(f"/a/{token}")
    assert page.status_code == 410
    assert "this review link expired at" in page.text
    assert f"/posts/{post['id']}/review" in page.text
    late = browser.post(
        f"/a/{token}", data={"csrf_token": csrf, "decision": "approve"}, follow_redirects=False
    )
    assert late.status_code == 410
    assert every_row(cli) == before


def test_an_altered_or_foreign_link_is_not_found(browser: TestClient, cli: Cli) -> None:
    post = submitted(cli)
    token = link_for(cli, post, "bob@example.org")
    before = every_row(cli)
    as_carol = link_for(cli, post, "carol@example.org")
    swapped = token.rsplit(".", 1)[0] + "." + as_carol.rsplit(".", 1)[1]
    other_key = LinkSigner.from_secret("another-installation-key-0123456789abcdef").issue(
        post_id=post["id"], revision_hash=post["revision_hash"], approver_id=3, now=cli.clock.now()
    )
    for bad in (swapped, token[:-1], token + "A", "1.2.3", other_key, "x" * 300):
        page = browser.get(f"/a/{bad}")
        assert page.status_code == 404, bad
        assert "this review link is not valid" in page.text
    csrf = csrf_of(browser.get(f"/a/{token}"))
    forged = browser.post(
        f"/a/{swapped}", data={"csrf_token": csrf, "decision": "approve"}, follow_redirects=False
    )
    assert forged.status_code == 404
    assert every_row(cli) == before


def test_a_post_without_the_csrf_token_is_refused(browser: TestClient, cli: Cli) -> None:
    post = submitted(cli)
    token = link_for(cli, post, "bob@example.org")
    browser.get(f"/a/{token}")
    before = every_row(cli)
    answer = browser.post(f"/a/{token}", data={"decision": "approve"}, follow_redirects=False)
    assert answer.status_code == 403 and "Form expired" in answer.text
    assert every_row(cli) == before


def test_a_link_for_an_older_revision_shows_why_and_decides_nothing(
    browser: TestClient, cli: Cli
) -> None:
    post = submitted(cli)
    token = link_for(cli, post, "bob@example.org")
    csrf = csrf_of(browser.get(f"/a/{token}"))
    cli.ok("edit", str(post["id"]), *ALICE, "--text", "Applications open on Tuesday.")
    before = every_row(cli)
    page = browser.get(f"/a/{token}")
    assert "This link was sent for revision 1; the post has changed since" in page.text
    assert f'action="/a/{token}"' not in page.text
    answer = browser.post(
        f"/a/{token}", data={"csrf_token": csrf, "decision": "approve"}, follow_redirects=False
    )
    assert answer.status_code == 409
    assert "has changed since revision" in answer.text
    assert every_row(cli) == before


def test_under_sso_a_link_needs_a_session_first(sso: TestClient, cli: Cli) -> None:
    post = submitted(cli)
    token = link_for(cli, post, "bob@example.org")
    before = every_row(cli)
    page = sso.get(f"/a/{token}", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/signin?next=%2Fa%2F1.")
    assert every_row(cli) == before
    sso.headers[PROXY_HEADER] = "bob@example.org"
    assert decide(sso, token, decision="approve").status_code == 303
    assert cli.json("show", str(post["id"]))["approvals"] == ["bob@example.org"]


def test_approver_as_link_in_approver_bs_session_is_refused(sso: TestClient, cli: Cli) -> None:
    post = submitted(cli)
    token = link_for(cli, post, "bob@example.org")
    sso.headers[PROXY_HEADER] = "bob@example.org"
    csrf = csrf_of(sso.get(f"/a/{token}"))
    sso.headers[PROXY_HEADER] = "carol@example.org"
    before = every_row(cli)
    page = sso.get(f"/a/{token}")
    assert page.status_code == 403
    assert "made for bob@example.org, and you are signed in as carol@example.org" in page.text
    assert "Applications open on Monday." not in page.text
    answer = sso.post(
        f"/a/{token}", data={"csrf_token": csrf, "decision": "approve"}, follow_redirects=False
    )
    assert answer.status_code == 403
    assert "made for bob@example.org, and you are signed in as carol@example.org" in answer.text
    assert every_row(cli) == before
