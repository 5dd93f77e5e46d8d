"""The guidance page in Chromium: staff read the ground rules and check a draft of a personal
post; what they type is shown back escaped, and the page needs nothing from the internet."""

from playwright.sync_api import Browser, Request

from tests.bot.conftest import Cli, every_row

HOSTILE = '</textarea><img src=x onerror="window.pwned = 1"> '


def test_staff_read_the_rules_and_check_a_draft(
    browser: Browser, live_server: str, cli: Cli
) -> None:
    page = browser.new_page()
    requested: list[str] = []

    def remember(request: Request) -> None:
        requested.append(request.url)

    page.on("request", remember)
    page.goto(f"{live_server}/guidance")
    assert page.locator("h1").inner_text() == "Personal use of social media"
    assert "even from a private or locked profile" in page.content()

    before = every_row(cli)
    page.fill("textarea#text", HOSTILE + "I'm at the station now, email me at jo@example.org")
    page.click("button[type=submit]")
    page.wait_for_url("**/guidance/check*")

    findings = page.locator("li:has(span.rule)").all_inner_texts()
    assert any("jo@example.org" in f and "personal_data.email" in f for f in findings)
    assert any("personal_data.whereabouts" in f for f in findings)
    assert page.evaluate("window.pwned") is None, "the draft was run as HTML"
    assert page.locator("textarea#text").input_value().startswith(HOSTILE)
    assert every_row(cli) == before, "the self-check stored something"
    assert all(url.startswith(live_server) for url in requested), requested
    page.close()
