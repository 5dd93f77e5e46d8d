"""Writing and editing posts in the browser, without JavaScript: what an officer may draft,
threads with images and alt text, templates, times in the account's zone, save and submit,
edits that make a new revision. Every refusal shows the form again with what was typed,
says why next to the field or at the top, and changes nothing."""

import hashlib
import html
import json
import random
import re
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from httpx import Response

from tests.bot.conftest import Cli, every_row
from tests.bot.web.conftest import Web
from tests.factories import EXAMPLE_CONFIG

ALICE = "alice@example.org"
FUTURE = "2026-12-01T09:00"  # the tests' clock says 2026-11-24 12:00 UTC
NO_FILE = ("", b"", "application/octet-stream")  # an empty file input, as browsers send it


def png(width: int = 8, height: int = 8, *, noise: bool = False) -> bytes:
    """A real PNG, written by hand (no binary in the repository, no Pillow needed): red, or
    random pixels that do not compress (a large file from a small picture)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    pixels = random.Random(7).randbytes if noise else (lambda n: b"\xff\x00\x00" * (n // 3))
    rows = b"".join(b"\0" + pixels(3 * width) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


class _Form(HTMLParser):
    """The fields of the compose form as a browser would post them: inputs, text areas and
    selects outside <template>, checked boxes only, no buttons and no files."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._in_template = 0
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "template":
            self._in_template += 1
        if self._in_template or "name" not in a:
            if tag == "option" and self._select and "selected" in a:
                self.fields[self._select] = a.get("value", "")
            return
        if tag == "input" and a.get("type", "text") not in ("file", "checkbox", "submit"):
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "input" and a.get("type") == "checkbox" and "checked" in a:
            self.fields[a["name"]] = a.get("value", "on")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields[a["name"]] = ""
        elif tag == "select":
            self._select = a["name"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self._in_template -= 1
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea and not self._in_template:
            self.fields[self._textarea] += data


def fields_of(page: str) -> dict[str, str]:
    parser = _Form()
    parser.feed(page)
    return parser.fields


def post_form(
    web: Web, url: str, fields: dict[str, str], files: dict[str, Any] | None = None
) -> Response:
    """The compose form as the page posts it: multipart, with the session's CSRF token."""
    data = {"csrf_token": web.csrf(), **fields}
    return web.client.post(
        url, data=data, files=files or {"part-0-new-0-file": NO_FILE}, follow_redirects=False
    )


def alert(page: str) -> str:
    """The summary of problems at the top of a refused form."""
    found = re.search(r'<div class="notice error" role="alert" id="problems".*?</div>', page, re.S)
    assert found, "a refused form says why at the top, as an alert"
    return html.unescape(found.group(0))


def error_of(page: str, field_id: str) -> str:
    found = re.search(rf'<p class="error field-error" id="{field_id}-error">(.*?)</p>', page, re.S)
    assert found, f"no message next to {field_id}"
    return html.unescape(found.group(1))


def textareas(page: str) -> list[str]:
    return [
        fields_of(page)[k] for k in sorted(fields_of(page)) if re.fullmatch(r"part-\d+-text", k)
    ]


def show(cli: Cli, post_id: int) -> Any:
    return cli.json("show", str(post_id))


def refused(
    web: Web, url: str, fields: dict[str, str], status: int, *, files: dict[str, Any] | None = None
) -> str:
    """Post the form, expecting a refusal that changed nothing; the page it answers with."""
    before = every_row(web.cli)
    answer = post_form(web, url, fields, files)
    assert answer.status_code == status, answer.text[:2000]
    assert every_row(web.cli) == before, "a refused form changed the database"
    assert answer.headers["cache-control"] == "no-store"
    return answer.text


@pytest.fixture
def help_officer(cli: Cli, tmp_path: Path) -> str:
    """Olga drafts for @DeptHelp only (a map the strategy lead applies)."""
    config = tmp_path / "with-olga.toml"
    config.write_text(
        EXAMPLE_CONFIG.read_text(encoding="utf-8")
        + '\n[roles.help_officer]\nactions = ["draft", "submit"]\naccounts = ["@DeptHelp"]\n'
        + '\n[[people]]\nemail = "olga@example.org"\nname = "Olga"\nroles = ["help_officer"]\n',
        encoding="utf-8",
    )
    cli.ok("map", "apply", "--as", "dana@example.org", "--config", str(config))
    return "olga@example.org"


# --- drafting -------------------------------------------------------------------------------


def test_a_single_post_is_saved_as_a_draft_at_the_local_time(web: Web, cli: Cli) -> None:
    page = web.sign_in(ALICE).client.get("/posts/new")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    fields = fields_of(page.text) | {
        "account": "@DeptNews",
        "at": FUTURE,
        "part-0-text": "Our annual report is out.\nRead it today.",
        "action": "save",
    }
    answer = post_form(web, "/posts/new", fields)
    assert answer.status_code == 303 and answer.headers["location"] == "/posts/1"
    post = show(cli, 1)
    assert post["state"] == "draft" and post["author"] == ALICE and post["account"] == "@DeptNews"
    assert post["parts"][0]["text"] == "Our annual report is out.\nRead it today."
    assert post["scheduled_local"] == "2026-12-01 09:00 GMT"
    assert "Post 1 saved as a draft." in web.client.get("/").text, "the flash follows"


def test_a_two_part_thread_with_an_image_and_alt_text_is_submitted(web: Web, cli: Cli) -> None:
    web.sign_in(ALICE)
    image = png()
    answer = post_form(
        web,
        "/posts/new",
        {
            "account": "@DeptHelp",
            "at": "2027-06-01T09:30",
            "part-0-text": "Self Assessment: what you need to know.",
            "part-1-text": "Here is the timeline.",
            "part-1-new-0-alt": "A timeline from April to January",
            "action": "submit",
        },
        files={
            "part-0-new-0-file": NO_FILE,
            "part-1-new-0-file": ("timeline.png", image, "image/png"),
        },
    )
    assert answer.status_code == 303, answer.text[:2000]
    post = show(cli, int(answer.headers["location"].rsplit("/", 1)[1]))
    assert post["state"] == "submitted"
    assert post["scheduled_local"] == "2027-06-01 09:30 BST", "summer time in London"
    assert [p["text"] for p in post["parts"]] == [
        "Self Assessment: what you need to know.",
        "Here is the timeline.",
    ]
    assert post["parts"][0]["media"] == []
    assert post["parts"][1]["media"] == [
        {
            "sha256": hashlib.sha256(image).hexdigest(),
            "alt_text": "A timeline from April to January",
        }
    ]
    entries = [json.loads(line) for line in cli.ok("audit", "export").stdout.splitlines()]
    mine = [e for e in entries if e["subject"] == f"post:{post['id']}"]
    assert [e["action"] for e in mine] == ["post.draft", "post.submitted"]
    assert all(e["details"]["via"] == "web" for e in mine), "the audit log records the door"


def test_only_the_accounts_a_person_may_draft_for_are_offered(
    web: Web, cli: Cli, help_officer: str
) -> None:
    page = web.sign_in(help_officer).client.get("/posts/new").text
    offered = re.findall(r'<option value="([^"]+)"', page)
    assert offered == ["@DeptHelp"]
    assert "@DeptNews" not in re.search(r"<select.*?</select>", page, re.S).group(0)  # type: ignore[union-attr]
    assert re.findall(
        r'<option value="([^"]+)"', web.sign_in(ALICE).client.get("/posts/new").text
    ) == [
        "@DeptNews",
        "@DeptHelp",
    ]


def test_an_account_not_offered_is_refused_if_posted_anyway(
    web: Web, cli: Cli, help_officer: str
) -> None:
    web.sign_in(help_officer)
    fields = {
        "account": "@DeptNews",
        "part-0-text": "Sneaking onto the news account",
        "action": "save",
    }
    page = refused(web, "/posts/new", fields, 403)
    assert "olga@example.org may not draft on @DeptNews" in error_of(page, "account")
    assert "may not draft on @DeptNews" in alert(page)
    assert textareas(page) == ["Sneaking onto the news account"], "what was typed is kept"


def test_someone_who_may_draft_nowhere_is_told_so(web: Web) -> None:
    page = web.sign_in("bob@example.org").client.get("/posts/new")
    assert page.status_code == 403
    assert "does not let you draft for any account" in page.text
    assert 'id="compose"' not in page.text


def test_a_form_without_the_csrf_token_is_refused(web: Web, cli: Cli) -> None:
    web.sign_in(ALICE)
    before = every_row(cli)
    data = {"account": "@DeptNews", "part-0-text": "Forged", "action": "save"}
    answer = web.client.post(
        "/posts/new", data=data, files={"part-0-new-0-file": NO_FILE}, follow_redirects=False
    )
    assert answer.status_code == 403 and "Form expired" in answer.text
    forged = web.client.post(
        "/posts/new",
        data={**data, "csrf_token": "forged"},
        files={"part-0-new-0-file": NO_FILE},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    assert every_row(cli) == before


def test_nobody_signed_in_is_sent_to_sign_in(web: Web) -> None:
    answer = web.client.get("/posts/new", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/signin?next=%2Fposts%2Fnew"


# --- refusals: the form comes back as it was, with the reason; nothing is stored ----------


@pytest.mark.parametrize(
    ("at", "says"),
    [
        ("2026-11-01T09:00", "is in the past; give a future time"),
        ("2027-03-28T01:30", "does not exist in Europe/London: the clocks go forward"),
        ("2027-10-31T01:30", "happens twice in Europe/London (clocks go back"),
    ],
)
def test_a_time_that_cannot_be_used_is_refused_next_to_the_field(
    web: Web, at: str, says: str
) -> None:
    web.sign_in(ALICE)
    fields = {"account": "@DeptHelp", "at": at, "part-0-text": "Timed words", "action": "save"}
    page = refused(web, "/posts/new", fields, 422)
    assert says in error_of(page, "at")
    assert 'href="#at"' in alert(page)
    kept = fields_of(page)
    assert (
        kept["at"] == at and kept["part-0-text"] == "Timed words" and kept["account"] == "@DeptHelp"
    )


def test_more_parts_than_a_thread_may_have_are_refused(web: Web) -> None:
    web.sign_in(ALICE)
    fields = {f"part-{n}-text": f"Part {n + 1}" for n in range(26)}
    page = refused(web, "/posts/new", {"account": "@DeptNews", **fields, "action": "save"}, 422)
    assert "a thread may have at most 25 parts (got 26)" in alert(page)
    assert len(textareas(page)) == 26, "every part typed is kept"


def test_an_image_the_domain_does_not_accept_is_refused_next_to_it(web: Web) -> None:
    web.sign_in(ALICE)
    fields = {
        "account": "@DeptNews",
        "part-0-text": "See the attached",
        "part-0-new-0-alt": "Notes",
        "action": "save",
    }
    files = {"part-0-new-0-file": ("notes.txt", b"not an image", "text/plain")}
    page = refused(web, "/posts/new", fields, 422, files=files)
    # The domain's own words (`posts.store_media`, as for `draft --image`), whatever its rule.
    assert re.search(r"\bnot\b.*\baccept", error_of(page, "part-0-image-0-alt"))
    kept = fields_of(page)
    assert kept["part-0-image-0-name"] == "notes.txt" and kept["part-0-image-0-alt"] == "Notes"


def test_a_file_that_only_claims_to_be_a_png_is_refused_by_the_domain(web: Web) -> None:
    pytest.importorskip(
        "approvals.content.images", reason="the domain decodes images from issue 14 on"
    )
    web.sign_in(ALICE)
    fields = {"account": "@DeptNews", "part-0-text": "A chart", "action": "save"}
    files = {"part-0-new-0-file": ("chart.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "image/png")}
    page = refused(web, "/posts/new", fields, 422, files=files)
    assert error_of(page, "part-0-image-0-alt").startswith("chart.png: ")


def test_a_blocking_finding_refuses_submit_and_keeps_the_draft_in_the_form(web: Web) -> None:
    web.sign_in(ALICE)
    words = "Ring us on 07700 900123 about your claim"
    fields = {"account": "@DeptNews", "part-0-text": words, "action": "submit"}
    page = refused(web, "/posts/new", fields, 409)
    assert "cannot be submitted until its blocking policy findings are fixed" in alert(page)
    assert textareas(page) == [words]
    assert "<strong>Blocks</strong>" in page


def test_an_alt_text_without_its_image_is_refused(web: Web) -> None:
    web.sign_in(ALICE)
    fields = {"account": "@DeptNews", "part-0-text": "Words", "part-0-new-1-alt": "A chart"}
    page = refused(web, "/posts/new", {**fields, "action": "save"}, 422)
    assert "alt text without an image" in error_of(page, "part-0-new-1-alt")


# --- without JavaScript: parts, templates and the check through the server ----------------


def test_adding_and_removing_parts_keeps_everything_typed(web: Web, cli: Cli) -> None:
    web.sign_in(ALICE)
    image = png()
    before = every_row(cli)
    added = post_form(
        web,
        "/posts/new",
        {
            "account": "@DeptHelp",
            "at": FUTURE,
            "part-0-text": "First",
            "part-0-new-0-alt": "A red square",
            "action": "add_part",
        },
        files={"part-0-new-0-file": ("square.png", image, "image/png")},
    )
    assert added.status_code == 200
    kept = fields_of(added.text)
    assert textareas(added.text) == ["First", ""]
    assert kept["part-0-image-0-alt"] == "A red square" and kept["at"] == FUTURE
    assert 'src="data:image/png;base64,' in added.text, "the chosen image is previewed"

    kept["part-1-text"] = "Second"
    removed = post_form(web, "/posts/new", kept | {"action": "remove_part:0"})
    assert textareas(removed.text) == ["Second"]
    assert every_row(cli) == before, "reworking the form stores nothing"

    # The image chosen before the first round trip is saved with the post.
    again = post_form(web, "/posts/new", kept | {"action": "save"})
    assert again.status_code == 303
    post = show(cli, 1)
    assert post["parts"][0]["media"] == [
        {"sha256": hashlib.sha256(image).hexdigest(), "alt_text": "A red square"}
    ]


def test_a_large_image_not_saved_yet_survives_a_round_trip(web: Web, cli: Cli) -> None:
    web.sign_in(ALICE)
    image = png(700, 700, noise=True)
    assert len(image) > 1_400_000, "larger than a form field may be by default"
    fields = {"account": "@DeptNews", "part-0-text": "Big picture", "part-0-new-0-alt": "Noise"}
    checked = post_form(
        web,
        "/posts/new",
        fields | {"action": "check"},
        files={"part-0-new-0-file": ("noise.png", image, "image/png")},
    )
    assert checked.status_code == 200
    saved = post_form(web, "/posts/new", fields_of(checked.text) | {"action": "save"})
    assert saved.status_code == 303, saved.text[:500]
    (media,) = show(cli, 1)["parts"][0]["media"]
    assert media == {"sha256": hashlib.sha256(image).hexdigest(), "alt_text": "Noise"}


def test_add_part_stops_at_the_most_parts_a_thread_may_have(web: Web) -> None:
    web.sign_in(ALICE)
    fields = {f"part-{n}-text": "x" for n in range(25)}
    page = post_form(web, "/posts/new", {"account": "@DeptNews", **fields, "action": "add_part"})
    assert page.status_code == 422 and len(textareas(page.text)) == 25
    assert "at most 25 parts" in error_of(page.text, "add-part")


def test_check_shows_the_count_and_findings_without_javascript(web: Web, cli: Cli) -> None:
    web.sign_in(ALICE)
    before = every_row(cli)
    fields = {
        "account": "@DeptNews",
        "part-0-text": "a" * 290,
        "part-1-text": "Call 07700 900123 for an exclusive",
        "action": "check",
    }
    page = post_form(web, "/posts/new", fields)
    assert page.status_code == 200 and every_row(cli) == before
    counts = re.findall(r'<p class="(count[^"]*)" id="part-(\d)-count">([^<]*)</p>', page.text)
    assert counts[0] == ("count over", "0", "290 / 280 (over by 10)")
    assert counts[1][0] == "count" and counts[1][2].startswith("34 / 280")
    findings = re.findall(
        r'<li class="finding-(\w+)"><a href="#part-(\d)-text">(.*?)</li>', page.text, re.S
    )
    assert ("block", "1") in [(s, p) for s, p, _ in findings], "the phone number blocks"
    assert any(s == "warn" and "Warning" in text for s, _, text in findings), "exclusive warns"
    assert "Blocks" in page.text and "3 findings: 2 block submitting." in page.text


def test_a_template_fills_the_parts_without_javascript(web: Web, cli: Cli) -> None:
    web.sign_in(ALICE)
    before = every_row(cli)
    fields = {
        "account": "@DeptNews",
        "part-0-text": "to be replaced",
        "tpl-consultation_open-topic": "business rates",
        "tpl-consultation_open-audience": "small firms",
        "tpl-consultation_open-closes": "31 March",
        "tpl-consultation_open-url": "https://www.gov.uk/rates",
        "action": "use_template:consultation_open",
    }
    page = post_form(web, "/posts/new", fields)
    assert page.status_code == 200 and every_row(cli) == before
    parts = textareas(page.text)
    assert len(parts) == 2 and parts[0].startswith("We've opened a public consultation on business")
    assert "https://www.gov.uk/rates" in parts[1]
    saved = post_form(web, "/posts/new", fields_of(page.text) | {"action": "save"})
    assert saved.status_code == 303
    assert [p["text"] for p in show(cli, 1)["parts"]] == parts


def test_a_template_missing_a_value_says_so_next_to_it(web: Web) -> None:
    web.sign_in(ALICE)
    fields = {
        "account": "@DeptNews",
        "part-0-text": "kept",
        "tpl-deadline_reminder-service": "Self Assessment",
        "action": "use_template:deadline_reminder",
    }
    page = refused(web, "/posts/new", fields, 422)
    assert "needs a value for: deadline, url" in page
    assert textareas(page) == ["kept"]
    assert re.search(r'<details id="tpl-deadline_reminder" class="template" open>', page)


def test_the_template_api_renders_for_the_page_script(web: Web) -> None:
    web.sign_in(ALICE)
    body = {"values": {"service": "Self Assessment", "deadline": "31 January", "url": "gov.uk/sa"}}
    url = "/api/v1/templates/deadline_reminder/render"
    answer = web.client.post(url, json=body, headers={"X-CSRF-Token": web.csrf()})
    assert answer.status_code == 200
    assert answer.json()["parts"][0].startswith("Reminder: the deadline for Self Assessment")
    assert web.client.post(url, json=body).status_code == 403, "the CSRF header is needed"
    missing = web.client.post(url, json={"values": {}}, headers={"X-CSRF-Token": web.csrf()})
    assert missing.status_code == 422 and "needs a value for" in missing.json()["detail"]
    unknown = web.client.post(
        "/api/v1/templates/nope/render", json=body, headers={"X-CSRF-Token": web.csrf()}
    )
    assert unknown.status_code == 404
    web.sign_in(None)
    assert web.client.post(url, json=body, headers={"X-CSRF-Token": "x"}).status_code in (401, 403)


# --- editing --------------------------------------------------------------------------------


def drafted(cli: Cli, *args: str) -> int:
    post = cli.json("draft", "--as", ALICE, "-a", "@DeptNews", *args)
    return int(post["id"])


def test_editing_a_post_in_review_makes_a_new_revision_and_voids_approvals(
    web: Web, cli: Cli
) -> None:
    post_id = drafted(
        cli, "--text", "Consultation opens today.", "--at", "2026-12-01 09:30", "--submit"
    )
    cli.ok("approve", str(post_id), "--as", "bob@example.org")
    first = show(cli, post_id)
    assert first["approvals"] == ["bob@example.org"]

    page = web.sign_in(ALICE).client.get(f"/posts/{post_id}/edit")
    assert page.status_code == 200
    fields = fields_of(page.text)
    assert fields["expected_hash"] == first["revision_hash"]
    assert fields["at"] == "2026-12-01T09:30" and textareas(page.text) == [
        "Consultation opens today."
    ]
    assert "Save changes" in page.text and "Submit for approval" not in page.text

    fields["part-0-text"] = "Consultation opens today at noon."
    answer = post_form(web, f"/posts/{post_id}/edit", fields | {"action": "save"})
    assert answer.status_code == 303 and answer.headers["location"] == f"/posts/{post_id}"
    after = show(cli, post_id)
    assert after["revision"] == 2 and after["revision_hash"] != first["revision_hash"]
    assert after["state"] == "submitted" and after["approvals"] == []
    assert after["parts"][0]["text"] == "Consultation opens today at noon."
    assert after["scheduled_local"] == first["scheduled_local"], "the time was not touched"
    assert "earlier approvals no longer count" in web.client.get("/").text


def test_an_edit_keeps_images_unless_removed_and_their_alt_text_can_change(
    web: Web, cli: Cli, tmp_path: Path
) -> None:
    one, two = tmp_path / "one.png", tmp_path / "two.png"
    one.write_bytes(png(8, 8))
    two.write_bytes(png(9, 9))
    post_id = drafted(
        cli,
        "--text",
        "Two charts",
        "--image",
        str(one),
        "--alt",
        "Chart one",
        "--image",
        str(two),
        "--alt",
        "Chart two",
    )
    page = web.sign_in(ALICE).client.get(f"/posts/{post_id}/edit").text
    fields = fields_of(page)
    fields["part-0-image-0-alt"] = "The first chart, corrected"
    fields["part-0-image-1-remove"] = "1"
    answer = post_form(web, f"/posts/{post_id}/edit", fields | {"action": "submit"})
    assert answer.status_code == 303, answer.text[:2000]
    post = show(cli, post_id)
    assert post["state"] == "submitted" and post["revision"] == 2
    assert post["parts"][0]["media"] == [
        {
            "sha256": hashlib.sha256(one.read_bytes()).hexdigest(),
            "alt_text": "The first chart, corrected",
        }
    ]


def test_a_new_time_alone_reschedules_without_a_new_revision(web: Web, cli: Cli) -> None:
    post_id = drafted(cli, "--text", "Same words", "--at", "2026-12-01 09:30")
    fields = fields_of(web.sign_in(ALICE).client.get(f"/posts/{post_id}/edit").text)
    answer = post_form(
        web, f"/posts/{post_id}/edit", fields | {"at": "2026-12-02T10:00", "action": "save"}
    )
    assert answer.status_code == 303
    post = show(cli, post_id)
    assert post["revision"] == 1 and post["scheduled_local"] == "2026-12-02 10:00 GMT"


def test_an_edit_on_top_of_someone_elses_is_refused(web: Web, cli: Cli) -> None:
    post_id = drafted(cli, "--text", "Original words")
    fields = fields_of(web.sign_in(ALICE).client.get(f"/posts/{post_id}/edit").text)
    cli.ok("edit", str(post_id), "--as", "pat@example.org", "--text", "Pat's words")
    fields["part-0-text"] = "Alice's words"
    page = refused(web, f"/posts/{post_id}/edit", fields | {"action": "save"}, 409)
    assert "changed by someone else since you opened it; reload it" in alert(page)
    assert textareas(page) == ["Alice's words"]


def test_a_post_that_can_no_longer_change_is_not_edited(web: Web, cli: Cli) -> None:
    post_id = drafted(cli, "--text", "Withdrawn soon")
    fields = fields_of(web.sign_in(ALICE).client.get(f"/posts/{post_id}/edit").text)
    cli.ok("withdraw", str(post_id), "--as", ALICE)
    fields["part-0-text"] = "Too late"
    page = refused(web, f"/posts/{post_id}/edit", fields | {"action": "save"}, 409)
    assert f"post {post_id} is withdrawn; it can no longer be edited" in alert(page)
    assert textareas(page) == ["Too late"]
    opened = web.client.get(f"/posts/{post_id}/edit")
    assert opened.status_code == 409 and "can no longer be edited" in opened.text


def test_an_edit_by_someone_without_the_right_is_refused(
    web: Web, cli: Cli, help_officer: str
) -> None:
    post_id = drafted(cli, "--text", "News words")
    fields = fields_of(web.sign_in(ALICE).client.get(f"/posts/{post_id}/edit").text)
    web.sign_in(help_officer)
    assert web.client.get(f"/posts/{post_id}/edit").status_code == 403
    page = refused(
        web, f"/posts/{post_id}/edit", fields | {"part-0-text": "Mine now", "action": "save"}, 403
    )
    assert "may not draft on @DeptNews" in alert(page)


def test_submitting_an_edited_draft_with_a_blocking_finding_changes_nothing(
    web: Web, cli: Cli
) -> None:
    post_id = drafted(cli, "--text", "Clean words")
    fields = fields_of(web.sign_in(ALICE).client.get(f"/posts/{post_id}/edit").text)
    fields["part-0-text"] = "Email jo@example.org for details"
    page = refused(web, f"/posts/{post_id}/edit", fields | {"action": "submit"}, 409)
    assert "blocking policy findings" in alert(page)
    assert show(cli, post_id)["parts"][0]["text"] == "Clean words", "the saved draft is kept"


@pytest.mark.parametrize("post_id", ["999", "0", "99999999999"])
def test_an_unknown_post_is_not_found(web: Web, post_id: str) -> None:
    web.sign_in(ALICE)
    assert web.client.get(f"/posts/{post_id}/edit").status_code == 404
    fields = {"expected_hash": "0" * 64, "part-0-text": "x", "action": "save"}
    assert "does not exist" in refused(web, f"/posts/{post_id}/edit", fields, 404)


def test_an_edit_in_review_that_brings_a_blocking_finding_goes_back_to_draft(
    web: Web, cli: Cli
) -> None:
    post_id = drafted(cli, "--text", "Clean words", "--submit")
    fields = fields_of(web.sign_in(ALICE).client.get(f"/posts/{post_id}/edit").text)
    fields["part-0-text"] = "Email jo@example.org for details"
    answer = post_form(web, f"/posts/{post_id}/edit", fields | {"action": "save"})
    assert answer.status_code == 303
    post = show(cli, post_id)
    assert post["state"] == "draft" and post["revision"] == 2
    assert "it is a draft again" in web.client.get("/").text
