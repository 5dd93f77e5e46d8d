"""Governance pages in Chromium: a member of staff comments on the consulted guidance through
the page's form (anonymous to colleagues), and the post page shows the stages a post needs
and who can sign each."""

from playwright.sync_api import Browser, Page, expect

from tests.approvals.governance_maps import staged_config
from tests.bot.conftest import Cli
from tests.bot.maps import apply_map
from tests.bot.web.conftest import PROXY_HEADER


def _page(browser: Browser, email: str) -> Page:
    return browser.new_context(extra_http_headers={PROXY_HEADER: email}).new_page()


def test_a_comment_sent_from_the_page_is_anonymous_to_colleagues(
    browser: Browser, proxy_server: str, cli: Cli
) -> None:
    cli.ok(
        "guidance",
        "consult",
        "open",
        "--as",
        "dana@example.org",
        "--until",
        "2026-11-25 17:00",
        "--anonymous",
    )
    alice = _page(browser, "alice@example.org")
    alice.goto(f"{proxy_server}/guidance/consultation")
    alice.fill("textarea#body", "Please say what counts as a <i>whereabouts</i>.")
    alice.click("text=Send comment")
    expect(alice.locator(".comments li")).to_contain_text("alice@example.org")
    bob = _page(browser, "bob@example.org")
    bob.goto(f"{proxy_server}/guidance/consultation")
    comment = bob.locator(".comments li")
    expect(comment).to_contain_text("anonymous")
    expect(comment).to_contain_text("Please say what counts as a <i>whereabouts</i>.")
    expect(comment).not_to_contain_text("alice@example.org")


def test_the_post_page_shows_each_stage_and_who_can_sign_it(
    browser: Browser, proxy_server: str, cli: Cli
) -> None:
    apply_map(cli, staged_config())
    post = cli.json(
        "draft", "--as", "alice@example.org", "-a", "@DeptNews", "--text", "Hello", "--submit"
    )
    cli.ok("approve", str(post["id"]), "--as", "bob@example.org")
    page = _page(browser, "alice@example.org")
    page.goto(f"{proxy_server}/posts/{post['id']}")
    rows = page.locator("table.stages tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("press")
    expect(rows.nth(0)).to_contain_text("bob@example.org (met)")
    expect(rows.nth(1)).to_contain_text("any 1 of legal")
    expect(rows.nth(1)).to_contain_text("carol@example.org, dana@example.org")
