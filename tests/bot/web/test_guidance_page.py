"""The guidance page in Chromium: staff read the ground rules and check a draft of a personal
post; what they type is shown back escaped, and the page needs nothing from the internet.
It works under the app's Content-Security-Policy: styled from its own stylesheet, and the
browser reports nothing blocked."""

from playwright.sync_api import Browser, ConsoleMessage, Request

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
    console: list[str] = []

    def listen(message: ConsoleMessage) -> None:
        console.append(message.text)

    page.on("console", listen)
    response = page.goto(f"{live_server}/guidance")
    assert (
        response is not None
        and "frame-ancestors 'none'" in response.headers["content-security-policy"]
    )
    assert page.locator("h1").inner_text() == "Personal use of social media"
    guidance = page.locator("div.guidance")
    assert guidance.evaluate("e => getComputedStyle(e).borderLeftStyle") == "solid", (
        "the stylesheet did not apply"
    )
    assert guidance.locator("ol > li").count() == 5, "the ground rules are rendered as a list"
    assert "## " not in guidance.inner_text(), "Markdown shown raw"
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
    assert f"{live_server}/static/pressgate.css" in requested
    assert page.locator("mark").first.evaluate("e => getComputedStyle(e).backgroundColor") == (
        "rgb(255, 221, 0)"
    )
    assert not [m for m in console if "Content Security Policy" in m], console
    page.close()


def test_script_and_script_links_in_the_guidance_do_nothing_in_a_browser(
    browser: Browser, live_server: str, cli: Cli
) -> None:
    config = cli.settings.config
    rules = [
        "<script>window.pwned = 1</script> Think first.",
        "[Read more](javascript:window.pwned=2) or [the rules](https://www.gov.uk/rules).",
        '<img src=x onerror="window.pwned = 3"> ![logo](https://evil.example/logo.png)',
    ]
    listed = ", ".join(f"'{rule}'" for rule in rules)
    text = config.read_text(encoding="utf-8")
    assert "\n[guidance]\n" in text
    text = text.replace("\n[guidance]\n", f"\n[guidance]\nground_rules = [{listed}]\n", 1)
    config.write_text(text, encoding="utf-8")
    cli.ok("map", "apply", "--as", "dana@example.org")
    page = browser.new_page()
    requested: list[str] = []

    def remember(request: Request) -> None:
        requested.append(request.url)

    page.on("request", remember)
    page.goto(f"{live_server}/guidance")
    guidance = page.locator("div.guidance")
    assert "<script>window.pwned = 1</script> Think first." in guidance.inner_text()
    assert page.evaluate("window.pwned") is None
    hrefs = guidance.locator("a").evaluate_all("links => links.map(a => a.href)")
    assert hrefs == ["https://www.gov.uk/rules", "https://evil.example/logo.png"]
    assert all(url.startswith(live_server) for url in requested), requested
    page.close()
