"""The calendar in Chromium: seven columns on a desktop, a list per day on a phone, styled
from the app's own stylesheet with no script at all."""

import pytest
from playwright.sync_api import Browser

from tests.bot.conftest import Cli
from tests.bot.web.conftest import PROXY_HEADER, web_settings


@pytest.fixture
def signed_in_server(cli: Cli, request: pytest.FixtureRequest) -> str:
    """The live server, believing the test's sign-in header as it would an SSO proxy's."""
    cli.settings = web_settings(cli)
    server: str = request.getfixturevalue("live_server")
    return server


def test_the_week_is_a_table_on_a_desktop_and_a_list_per_day_on_a_phone(
    browser: Browser, signed_in_server: str, cli: Cli
) -> None:
    cli.ok(
        "draft",
        "--as",
        "alice@example.org",
        "-a",
        "@DeptNews",
        "--text",
        "Budget day",
        "--at",
        "2026-12-01 09:30",
    )
    url = f"{signed_in_server}/calendar?account=%40DeptNews&week=2026-W49"
    headers = {PROXY_HEADER: "alice@example.org"}
    for width, stacked in ((1280, False), (375, True)):
        context = browser.new_context(
            viewport={"width": width, "height": 800}, extra_http_headers=headers
        )
        page = context.new_page()
        page.goto(url)
        cell = page.locator("table.calendar td").nth(1)  # Tuesday 1 December
        assert "09:30 GMT" in cell.inner_text() and "Budget day" in cell.inner_text()
        display = cell.evaluate("e => getComputedStyle(e).display")
        assert display == ("block" if stacked else "table-cell"), (width, display)
        heading = page.locator("table.calendar h3.cal-day").nth(1)
        assert heading.is_visible() == stacked, "a phone shows each day's own heading"
        header = page.locator("table.calendar thead").bounding_box()
        assert header is not None and (header["x"] < 0) == stacked, "column heads moved off"
        page_width = page.evaluate("document.documentElement.scrollWidth")
        assert page_width <= width, "nothing runs off the side of the screen"
        assert page.locator("script").count() == 0
        context.close()
