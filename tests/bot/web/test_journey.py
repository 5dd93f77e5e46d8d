"""A post's whole journey through the pages, in Chromium, as the people who use them:

an officer composes a two-part thread with an image and alt text, sees the count and a
blocking finding, fixes it and submits; one approver approves; the officer edits; the
approver's review page shows the diff and that the approval lapsed; two approvers approve;
the post is in the calendar at its local time. On every page axe-core (vendored under
tests/vendor/axe-core) finds no serious or critical accessibility violation, no request
leaves loopback, and nothing breaks the Content-Security-Policy. Screenshots of the main
pages go to tests/artifacts/ for whoever reviews a change.
"""

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.bot.conftest import Cli
from tests.bot.web.conftest import PROXY_HEADER
from tests.image_files import image_bytes

AXE = Path(__file__).resolve().parents[2] / "vendor" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
ALICE, BOB, CAROL = "alice@example.org", "bob@example.org", "carol@example.org"


class Person:
    """One person's browser: signed in through the trusted proxy header, watched for requests
    that leave loopback and for Content-Security-Policy reports."""

    def __init__(self, browser: Browser, base: str, email: str) -> None:
        self.base = base
        self.context: BrowserContext = browser.new_context(
            extra_http_headers={PROXY_HEADER: email}, viewport={"width": 1280, "height": 900}
        )
        self.page: Page = self.context.new_page()
        self.outside: list[str] = []
        self.console: list[str] = []
        self.page.on("request", self._request)
        self.page.on("console", lambda message: self.console.append(message.text))

    def _request(self, request: Any) -> None:
        url: str = request.url
        if not url.startswith((self.base, "data:", "blob:", "about:")):
            self.outside.append(url)

    def open(self, path: str) -> Page:
        self.page.goto(self.base + path)
        return self.page

    def check(self, name: str) -> None:
        """axe-core on the page as it stands, and a screenshot."""
        violations = axe(self.page)
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert not serious, f"{name}: " + json.dumps(
            [
                {"id": v["id"], "help": v["help"], "nodes": [n["html"] for n in v["nodes"][:3]]}
                for v in serious
            ],
            indent=1,
        )
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        assert not self.outside, f"requests left loopback: {self.outside}"
        assert not [m for m in self.console if "Content Security Policy" in m], self.console
        self.context.close()


def axe(page: Page) -> list[dict[str, Any]]:
    """Run axe-core in the page. Evaluated through the DevTools protocol, which the page's
    Content-Security-Policy does not govern, so the policy under test stays as served."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


@pytest.mark.slow
def test_a_thread_goes_from_compose_to_the_calendar_through_two_approvals(
    browser: Browser, proxy_server: str, cli: Cli, tmp_path: Path
) -> None:
    chart = tmp_path / "chart.png"
    chart.write_bytes(image_bytes((320, 200), colour="navy"))
    alice = Person(browser, proxy_server, ALICE)
    bob = Person(browser, proxy_server, BOB)
    carol = Person(browser, proxy_server, CAROL)

    # The officer writes a two-part thread on @DeptNews, with an image, due next Wednesday.
    page = alice.open("/")
    expect(page.locator("h1")).to_contain_text("Hello")
    alice.check("home")
    page = alice.open("/posts/new")
    page.select_option("#account", "@DeptNews")
    page.fill("#at", "2026-12-02T09:30")
    expect(page.locator("#zone")).to_contain_text("Europe/London")
    page.locator("#part-0-text").press_sequentially("Our helpline is 07700 900123 today")
    expect(page.locator("#part-0-count")).to_have_text("34 / 280")
    expect(page.locator("#findings li.finding-block")).to_contain_text("Blocks")
    alice.check("compose")
    page.locator("#part-0-text").fill("Our annual report is out today")
    expect(page.locator("#findings li.finding-block")).to_have_count(0)
    page.get_by_role("button", name="Add a part").click()
    page.locator("#part-1-text").fill("Receipts rose by 4% on last year.")
    page.set_input_files("#part-1-new-0-file", str(chart))
    page.fill("#part-1-new-0-alt", "Bar chart of receipts by year, rising")
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.locator(".notice.ok")).to_be_visible()
    post_url = page.url
    post_id = post_url.rstrip("/").rsplit("/", 1)[-1]
    expect(page.locator(".state").first).to_have_text("submitted")
    shown = cli.json("show", post_id)
    assert [p["text"] for p in shown["parts"]] == [
        "Our annual report is out today",
        "Receipts rose by 4% on last year.",
    ]
    assert shown["parts"][1]["media"][0]["alt_text"] == "Bar chart of receipts by year, rising"

    # One approver approves on the review page.
    page = bob.open(f"/posts/{post_id}/review")
    expect(page.get_by_text("first look", exact=False)).to_be_visible()
    page.get_by_role("button", name="Approve revision 1").click()
    expect(page.locator(".notice.ok")).to_be_visible()
    assert cli.json("show", post_id)["approvals"] == [BOB]

    # The officer edits the first part: a new revision, and Bob's approval no longer counts.
    page = alice.open(f"/posts/{post_id}/edit")
    page.locator("#part-0-text").fill("Our annual report for 2026 is out today")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".notice.ok")).to_be_visible()
    alice.check("post")

    page = bob.open(f"/posts/{post_id}/review")
    expect(page.locator("ins").first).to_contain_text("2026")
    expect(page.locator(".lapse")).to_contain_text("You approved revision 1")
    bob.check("review")
    page.get_by_role("button", name="Approve revision 2").click()
    expect(page.locator(".notice.ok")).to_be_visible()
    page = carol.open(f"/posts/{post_id}/review")
    page.get_by_role("button", name="Approve revision 2").click()
    expect(page.locator(".notice.ok")).to_be_visible()
    final = cli.json("show", post_id)
    assert final["state"] == "queued" and sorted(final["approvals"]) == [BOB, CAROL]

    # In the calendar at 09:30 London time on Wednesday 2 December.
    page = alice.open("/calendar?account=@DeptNews&week=2026-W49")
    entry = page.locator(f'a[href="/posts/{post_id}"]')
    expect(entry).to_be_visible()
    row = page.locator("td, li", has=entry).first
    expect(row).to_contain_text("09:30")
    alice.check("calendar")

    page = alice.open("/map")
    alice.check("map")
    page = alice.open("/guidance")
    alice.check("guidance")
    page = alice.open("/import")
    alice.check("import")
    page = alice.open(f"/posts/{post_id}")
    expect(page.locator(".state").first).to_have_text("queued")

    dana = Person(browser, proxy_server, "dana@example.org")
    page = dana.open("/audit")
    expect(page.get_by_text("intact", exact=False).first).to_be_visible()
    dana.check("audit")
    sam = Person(browser, proxy_server, "sam@example.org")
    sam.open("/duty")
    sam.check("duty")
    for person in (alice, bob, carol, dana, sam):
        person.close()


def test_the_sign_in_page_is_accessible(browser: Browser, live_server: str) -> None:
    visitor = Person(browser, live_server, "")
    visitor.context.set_extra_http_headers({})
    visitor.open("/signin")
    visitor.check("signin")
    visitor.close()
