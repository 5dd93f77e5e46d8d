"""The compose page's script in Chromium, under the app's Content-Security-Policy: the count
and the findings appear as the officer types (nothing is stored until they save), parts are
added and removed in place, a template fills the parts, and the form still saves a thread
with an image."""

from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.bot.conftest import Cli, every_row
from tests.bot.web.conftest import PROXY_HEADER
from tests.bot.web.test_compose import png

ALICE = "alice@example.org"


def signed_in_page(
    browser: Browser, email: str, *, javascript: bool = True
) -> tuple[Page, list[str]]:
    context = browser.new_context(
        extra_http_headers={PROXY_HEADER: email}, java_script_enabled=javascript
    )
    page = context.new_page()
    console: list[str] = []

    def listen(message: ConsoleMessage) -> None:
        console.append(message.text)

    page.on("console", listen)
    return page, console


def test_the_count_and_a_blocking_finding_appear_as_the_officer_types(
    browser: Browser, proxy_server: str, cli: Cli
) -> None:
    page, console = signed_in_page(browser, ALICE)
    page.goto(f"{proxy_server}/posts/new")
    expect(page.locator("h1")).to_have_text("Write a post")
    before = every_row(cli)

    page.locator("#part-0-text").press_sequentially("Ring us on 07700 900123 today")
    expect(page.locator("#part-0-count")).to_have_text("29 / 280")
    blocking = page.locator("#findings li.finding-block")
    expect(blocking).to_contain_text("Blocks")
    expect(blocking).to_contain_text("07700 900123")
    expect(page.locator("#check-status")).to_have_text("1 finding: 1 blocks submitting.")
    expect(page.locator("#check-status")).to_have_attribute("aria-live", "polite")
    blocking.locator("a").click()
    expect(page.locator("#part-0-text")).to_be_focused()

    page.locator("#part-0-text").fill("a" * 281)
    expect(page.locator("#part-0-count")).to_have_text("281 / 280 (over by 1)")
    expect(page.locator("#part-0-count")).to_have_class("count over")
    expect(page.locator("#preview .tweet .words")).to_have_text("a" * 281)

    assert page.url == f"{proxy_server}/posts/new", "nothing was submitted"
    assert every_row(cli) == before, "typing stored nothing"
    assert not [m for m in console if "Content Security Policy" in m], console
    page.context.close()


def test_parts_are_added_and_removed_in_place(
    browser: Browser, proxy_server: str, cli: Cli
) -> None:
    page, console = signed_in_page(browser, ALICE)
    page.goto(f"{proxy_server}/posts/new")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.method + " " + request.url))
    parts = page.locator("#parts .compose-part")
    expect(parts).to_have_count(1)
    expect(page.locator(".remove-part")).to_be_hidden()

    page.locator("#part-0-text").fill("First part")
    page.get_by_role("button", name="Add a part").click()
    expect(parts).to_have_count(2)
    second = parts.nth(1).locator("textarea")
    expect(second).to_be_focused()
    expect(parts.nth(1).locator("legend")).to_have_text("Part 2")
    second.press_sequentially("Second part")
    expect(page.locator("#preview .tweet.reply .words")).to_have_text("Second part")
    expect(page.locator("#preview .tweet.reply .replying")).to_have_text("Replying to @DeptNews")
    expect(parts.nth(1).locator(".count")).to_have_text("11 / 280")

    parts.nth(0).locator(".alt-text").first.press("Enter")  # the form's default button: Check
    expect(parts).to_have_count(2)

    parts.nth(0).get_by_role("button", name="Remove this part (part 1)").click()
    expect(parts).to_have_count(1)
    expect(parts.nth(0).locator("textarea")).to_have_value("Second part")
    expect(parts.nth(0).locator("legend")).to_have_text("Part 1")
    expect(page.locator(".remove-part")).to_be_hidden()
    expect(page.locator("#compose-announce")).to_contain_text("Part 1 removed")
    assert not [r for r in requests if r.startswith("POST") and "/api/v1/" not in r], requests
    assert not [m for m in console if "Content Security Policy" in m], console
    page.context.close()


def test_a_template_fills_the_parts_and_the_thread_saves_with_an_image(
    browser: Browser, proxy_server: str, cli: Cli
) -> None:
    page, console = signed_in_page(browser, ALICE)
    page.goto(f"{proxy_server}/posts/new")
    page.locator("#account").select_option("@DeptHelp")
    picker = page.locator("#tpl-consultation_open")
    picker.locator("summary").click()
    picker.get_by_label("topic").fill("business rates")
    picker.get_by_label("audience").fill("small firms")
    picker.get_by_label("closes").fill("31 March")
    picker.get_by_label("url").fill("https://www.gov.uk/rates")
    picker.get_by_role("button", name="Use this template").click()
    parts = page.locator("#parts .compose-part")
    expect(parts).to_have_count(2)
    expect(parts.nth(0).locator("textarea")).to_have_value(
        "We've opened a public consultation on business rates. We want to hear from small "
        "firms.\n\nIt closes on 31 March. Have your say: https://www.gov.uk/rates"
    )
    assert page.url == f"{proxy_server}/posts/new", "the template was filled in place"

    image = png()
    parts.nth(1).locator(".image-file").first.set_input_files(
        files=[{"name": "chart.png", "mimeType": "image/png", "buffer": image}]
    )
    parts.nth(1).get_by_label("Alt text for this image").first.fill("A bar chart of responses")
    expect(page.locator("#preview .tweet.reply img.thumb")).to_have_attribute(
        "alt", "A bar chart of responses"
    )
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(f"{proxy_server}/posts/1")
    post = cli.json("show", "1")
    assert post["account"] == "@DeptHelp" and len(post["parts"]) == 2
    assert post["parts"][1]["media"][0]["alt_text"] == "A bar chart of responses"
    assert not [m for m in console if "Content Security Policy" in m], console
    page.context.close()


def test_enter_in_a_field_checks_the_words_and_never_removes_a_part_without_javascript(
    browser: Browser, proxy_server: str, cli: Cli
) -> None:
    page, _ = signed_in_page(browser, ALICE, javascript=False)
    page.goto(f"{proxy_server}/posts/new")
    page.locator("#part-0-text").fill("First part")
    page.get_by_role("button", name="Add a part").click()
    parts = page.locator("#parts .compose-part")
    expect(parts).to_have_count(2)
    parts.nth(1).locator("textarea").fill("Call 07700 900123")
    before = every_row(cli)
    with page.expect_navigation():
        parts.nth(0).locator(".alt-text").first.press("Enter")
    expect(parts).to_have_count(2)
    expect(page.locator("#problems")).to_have_count(0)  # not "Use this template" either
    expect(parts.nth(0).locator("textarea")).to_have_value("First part")
    expect(page.locator("#findings li.finding-block")).to_contain_text("Blocks")
    expect(page.locator("#part-1-count")).to_have_text("17 / 280")
    assert every_row(cli) == before
    page.context.close()
