"""`/import`: an officer uploads a CSV and its images, sees every row checked before anything
is saved, then saves them all as drafts or submits them all. The server checks the upload
again when it saves, and saves only the very files it showed. A bad file shows the same
line and column messages as the CLI, and nothing is saved; nor is anything without the
session's CSRF token."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from httpx import Response
from playwright.sync_api import Browser, FilePayload, expect

from approvals.importing.bulk_images import MAX_TOTAL_IMAGE_BYTES
from bot.web.pages.bulk import MAX_BODY_BYTES
from tests.bot.conftest import Cli, every_row
from tests.bot.web.conftest import PROXY_HEADER, Web, web_settings
from tests.bulk_files import REMINDER, csv_bytes, local_day, png, row

ALICE = "alice@example.org"
GOOD = csv_bytes(
    [
        row(text="Annual report today\n---\nRead it: https://www.gov.uk/report", campaign="report"),
        row(account="@DeptHelp", date="2027-01-20", time="10:00", **REMINDER),
        row(date="2027-06-01", text="Our new office", image="office.png", alt_text="The front"),
    ]
)
CHECKED = re.compile(r'name="checked" value="([0-9a-f]*)"')


def upload(
    web: Web,
    data: bytes = GOOD,
    *,
    action: str = "check",
    checked: str = "",
    images: dict[str, bytes] | None = None,
) -> Response:
    files: list[tuple[str, Any]] = [("csv", ("posts.csv", data, "text/csv"))]
    for name, content in (images if images is not None else {"office.png": png()}).items():
        files.append(("images", (name, content, "image/png")))
    return web.post("/import", {"action": action, "checked": checked}, files=files)


def digest(page: Response) -> str:
    found = CHECKED.search(page.text)
    assert found and found.group(1), "a checked upload carries its digest into the form"
    return found.group(1)


def test_the_page_offers_the_upload_form_and_a_template(web: Web) -> None:
    page = web.sign_in(ALICE).client.get("/import")
    assert page.status_code == 200
    assert '<label for="csv">' in page.text and '<label for="images">' in page.text
    assert 'enctype="multipart/form-data"' in page.text
    assert 'value="save"' not in page.text, "nothing to save before a check"
    template = web.client.get("/import/template.csv")
    assert template.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in template.headers["content-disposition"]
    assert template.content.startswith(b"\xef\xbb\xbfaccount,date,time,text,")
    assert len(template.text.strip().splitlines()) == 5, "a header, two rows, one of two lines"


def test_the_downloaded_template_checks_as_it_is(web: Web) -> None:
    web.sign_in(ALICE)
    template = web.client.get("/import/template.csv").content
    page = upload(web, template, images={})
    assert page.status_code == 200, page.text
    assert "All 2 rows of posts.csv checked: ready to save." in page.text


def test_an_upload_is_shown_row_by_row_before_anything_is_saved(web: Web) -> None:
    web.sign_in(ALICE)
    before = every_row(web.cli)
    page = upload(web)
    assert page.status_code == 200
    assert every_row(web.cli) == before
    text = page.text
    for line in ('id="line-2"', 'id="line-5"', 'id="line-6"'):
        assert line in text
    assert "2027-01-05 09:30 GMT" in text and "2027-06-01 09:30 BST" in text
    assert "Reminder: the deadline for Self Assessment is 31 January." in text
    assert "office.png" in text and "(alt: The front)" in text
    assert "deadline_reminder" in text and "report" in text
    assert 'value="save"' in text and 'value="submit"' in text
    assert page.headers["cache-control"] == "no-store"


def test_save_all_checks_the_files_again_and_saves_every_row_as_a_draft(web: Web) -> None:
    web.sign_in(ALICE)
    checked = digest(upload(web))
    saved = upload(web, action="save", checked=checked)
    assert saved.status_code == 303 and saved.headers["location"] == "/"
    drafts = web.cli.json("queue", "--state", "draft")
    assert len(drafts) == 3 and {d["author"] for d in drafts} == {ALICE}
    assert "Saved 3 posts from posts.csv as drafts." in web.client.get("/").text


def test_submit_all_sends_every_row_for_approval(web: Web) -> None:
    web.sign_in(ALICE)
    checked = digest(upload(web))
    assert upload(web, action="submit", checked=checked).status_code == 303
    assert len(web.cli.json("queue", "--state", "submitted")) == 3


def test_files_other_than_those_checked_are_shown_again_not_saved(web: Web) -> None:
    web.sign_in(ALICE)
    checked = digest(upload(web))
    before = every_row(web.cli)
    other_image = upload(web, action="save", checked=checked, images={"office.png": png(shade=3)})
    assert other_image.status_code == 409
    assert "These are not the files that were checked" in other_image.text
    assert upload(web, action="save", checked="").status_code == 409, "no check, no save"
    assert every_row(web.cli) == before


def test_a_bad_file_names_each_line_and_column_and_nothing_is_saved(web: Web) -> None:
    web.sign_in(ALICE)
    bad = csv_bytes([row(), row(account="@Nobody"), row(date="2027-03-28", time="01:30")])
    before = every_row(web.cli)
    page = upload(web, bad, images={})
    assert page.status_code == 422
    assert "2 problems in posts.csv: nothing was saved." in page.text
    assert "Problem, column account: account @Nobody is not in the permission map" in page.text
    assert "Problem, column time: 2027-03-28 01:30 does not exist in Europe/London" in page.text
    assert 'value="save"' not in page.text
    forced = upload(web, bad, images={}, action="save", checked=digest(page))
    assert forced.status_code == 422
    assert every_row(web.cli) == before


def test_a_file_that_cannot_be_read_says_so_and_saves_nothing(web: Web) -> None:
    web.sign_in(ALICE)
    before = every_row(web.cli)
    page = upload(web, "account,text\r\n@DeptNews,hi\r\n".encode("utf-16"), images={})
    assert page.status_code == 422
    assert "Problem, the file: the file is not UTF-8 text" in page.text
    missing = web.post("/import", {"action": "check"}, files=[("images", ("a.png", png()))])
    assert missing.status_code == 422 and "Choose the CSV file to check." in missing.text
    traversal = upload(web, csv_bytes([row(image="../office.png")]))
    assert "image &#39;../office.png&#39; is a path" in traversal.text
    twice = web.post(
        "/import",
        {"action": "check"},
        files=[
            ("csv", ("posts.csv", GOOD)),
            *[("images", ("office.png", png(shade=s))) for s in (1, 2)],
        ],
    )
    assert twice.status_code == 422 and "Two images are called office.png" in twice.text
    assert every_row(web.cli) == before


def test_blocking_findings_allow_drafts_but_not_submit_all(web: Web) -> None:
    web.sign_in(ALICE)
    risky = csv_bytes([row(), row(text="Ring 07700 900123 for details")])
    page = upload(web, risky, images={})
    assert page.status_code == 200
    assert 'value="save"' in page.text and 'value="submit"' not in page.text
    assert "blocks submitting" in page.text
    before = every_row(web.cli)
    refused = upload(web, risky, images={}, action="submit", checked=digest(page))
    assert refused.status_code == 422 and "personal_data.uk_phone" in refused.text
    assert every_row(web.cli) == before
    assert upload(web, risky, images={}, action="save", checked=digest(page)).status_code == 303
    assert len(web.cli.json("queue", "--state", "draft")) == 2


def test_someone_without_the_right_to_draft_sees_why_and_saves_nothing(web: Web) -> None:
    web.sign_in("bob@example.org")
    before = every_row(web.cli)
    page = upload(web, csv_bytes([row()]), images={})
    assert page.status_code == 422
    assert "bob@example.org may not draft on @DeptNews" in page.text
    forced = upload(web, csv_bytes([row()]), images={}, action="save", checked=digest(page))
    assert forced.status_code == 422
    assert every_row(web.cli) == before


def test_an_upload_without_the_sessions_csrf_token_is_refused(web: Web) -> None:
    web.sign_in(ALICE)
    checked = digest(upload(web))
    before = every_row(web.cli)
    forged = web.client.post(
        "/import",
        data={"action": "save", "checked": checked, "csrf_token": "forged"},
        files=[("csv", ("posts.csv", GOOD)), ("images", ("office.png", png()))],
        follow_redirects=False,
    )
    assert forged.status_code == 403 and "Form expired" in forged.text
    assert every_row(web.cli) == before


def test_nobody_signed_in_uploads_nothing(web: Web) -> None:
    before = every_row(web.cli)
    answer = upload(web)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")
    assert web.client.get("/import", follow_redirects=False).status_code == 303
    assert every_row(web.cli) == before


def test_an_upload_larger_than_the_route_takes_is_refused_unread(web: Web) -> None:
    web.sign_in(ALICE)
    before = every_row(web.cli)
    huge = {"office.png": png(), "big.png": b"\0" * (MAX_TOTAL_IMAGE_BYTES + 2_000_000)}
    answer = upload(web, images=huge)
    assert answer.status_code == 413, "refused from its declared length"
    assert every_row(web.cli) == before


def test_a_streamed_upload_is_refused_once_it_passes_the_limit(web: Web) -> None:
    """No Content-Length (chunked): the body is counted as it is read."""
    web.sign_in(ALICE)
    before = every_row(web.cli)
    chunk = b"\0" * 1_000_000

    def body() -> Iterator[bytes]:
        yield b'--x\r\nContent-Disposition: form-data; name="csv"; filename="a.csv"\r\n\r\n'
        for _ in range(MAX_BODY_BYTES // len(chunk) + 5):
            yield chunk

    answer = web.client.post(
        "/import",
        content=body(),
        headers={"content-type": "multipart/form-data; boundary=x", "x-csrf-token": web.csrf()},
    )
    assert answer.status_code == 413
    assert every_row(web.cli) == before


# --- in Chromium: the script checks in place, so the chosen files stay for "Save all" --------
@pytest.fixture
def proxy_sign_in(cli: Cli) -> Cli:
    """The served app believes the trusted header (set below) to say who is signed in; asked
    for before `live_server`, which builds the app from these settings."""
    cli.settings = web_settings(cli)
    return cli


def test_in_a_browser_check_keeps_the_files_and_save_all_saves_them(
    proxy_sign_in: Cli, live_server: str, browser: Browser
) -> None:
    day = local_day(datetime.now(UTC), 30)
    data = csv_bytes(
        [
            row(date=day, text="From the browser", image="office.png", alt_text="The front"),
            row(account="@DeptHelp", date=day, time="10:00", **REMINDER),
        ]
    )
    context = browser.new_context(extra_http_headers={PROXY_HEADER: ALICE})
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server}/import")
    page.set_input_files("#csv", files=[_file("posts.csv", "text/csv", data)])
    page.set_input_files("#images", files=[_file("office.png", "image/png", png())])
    before = every_row(proxy_sign_in)

    page.get_by_role("button", name="Check every row").click()
    expect(page.locator("#import-summary")).to_contain_text("All 2 rows of posts.csv checked")
    assert page.url == f"{live_server}/import", "checked in place, not by a page load"
    assert page.locator("#csv").evaluate("input => input.files.length") == 1
    assert page.locator("#import-again").count() == 0, "no need to choose the files again"
    assert page.locator("#line-2 td").nth(1).inner_text().endswith(("GMT", "BST"))
    assert every_row(proxy_sign_in) == before

    page.get_by_role("button", name="Save all 2 as drafts").click()
    page.wait_for_url(f"{live_server}/")
    expect(page.locator("p.notice.ok")).to_contain_text("Saved 2 posts from posts.csv as drafts.")
    drafts = proxy_sign_in.json("queue", "--state", "draft")
    assert sorted(d["account"] for d in drafts) == ["@DeptHelp", "@DeptNews"]
    assert not [m for m in console if "Content Security Policy" in m], console
    assert all(url.startswith(live_server) for url in requested), requested
    context.close()


def test_in_a_browser_a_file_chosen_after_the_check_must_be_checked_again(
    proxy_sign_in: Cli, live_server: str, browser: Browser
) -> None:
    day = local_day(datetime.now(UTC), 30)
    context = browser.new_context(extra_http_headers={PROXY_HEADER: ALICE})
    page = context.new_page()
    page.goto(f"{live_server}/import")
    page.set_input_files("#csv", files=[_file("a.csv", "text/csv", csv_bytes([row(date=day)]))])
    page.get_by_role("button", name="Check every row").click()
    expect(page.get_by_role("button", name="Save all 1 as drafts")).to_be_visible()
    other = csv_bytes([row(date=day, text="Something else")])
    page.set_input_files("#csv", files=[_file("a.csv", "text/csv", other)])
    expect(page.get_by_role("button", name="Save all 1 as drafts")).to_have_count(0)
    assert page.locator("input[name=checked]").input_value() == ""
    context.close()


def _file(name: str, mime: str, data: bytes) -> FilePayload:
    return {"name": name, "mimeType": mime, "buffer": data}
