"""The guidance page: anyone can read the guidance and check a draft of their own post; the
check is advice only, so it writes nothing anywhere, and what was typed comes back escaped."""

import re

from fastapi.testclient import TestClient

from approvals.config import DEFAULT_GROUND_RULES
from approvals.db import make_engine
from approvals.migrate import upgrade
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.guidance import MAX_DRAFT_CHARS
from tests.bot.conftest import Cli, every_row


def test_the_page_shows_the_guidance_and_the_check_form(client: TestClient) -> None:
    page = client.get("/guidance")
    assert page.status_code == 200
    assert page.template.name == "pages/guidance.html"
    assert page.context["version"] is None
    for rule in DEFAULT_GROUND_RULES:
        assert f"<li>{rule}</li>" in page.text, "the ground rules are a list, not raw Markdown"
    assert "<h3>Ground rules</h3>" in page.text and "## Ground rules" not in page.text
    assert "<code>pressgate guidance check</code>" in page.text and "`" not in page.text
    assert "Not yet published" in page.text
    assert '<form method="post" action="/guidance/check#check">' in page.text
    assert "<script" not in page.text and "src=" not in page.text and "<style" not in page.text
    assert re.findall(r"<link[^>]*>", page.text) == [
        '<link rel="stylesheet" href="/static/pressgate.css">'
    ], "the page loads nothing but its own stylesheet"


def test_the_page_shows_the_published_version_once_there_is_one(
    cli: Cli, client: TestClient
) -> None:
    cli.ok("guidance", "publish", "--as", "dana@example.org")
    page = client.get("/guidance")
    assert page.context["version"].id == 1
    assert "Version 1, published 24 November 2026" in page.text


def test_checking_a_draft_lists_what_was_found(client: TestClient) -> None:
    answer = client.post("/guidance/check", data={"text": "Write to jo@example.com today"})
    assert answer.status_code == 200
    findings = answer.context["findings"]
    assert [(f.rule, f.excerpt) for f in findings] == [("personal_data.email", "jo@example.com")]
    assert "<mark>jo@example.com</mark>" in answer.text
    assert "personal_data.email" in answer.text
    assert answer.headers["cache-control"] == "no-store"


def test_an_ordinary_post_passes_with_a_reminder_to_use_judgement(client: TestClient) -> None:
    answer = client.post("/guidance/check", data={"text": "What a match! 2-0 at full time."})
    assert answer.context["findings"] == []
    assert "Nothing found" in answer.text


def test_a_draft_with_markup_comes_back_escaped(client: TestClient) -> None:
    draft = '<script>alert("our logo")</script>'
    answer = client.post("/guidance/check", data={"text": draft})
    assert answer.status_code == 200
    assert "<script>" not in answer.text
    assert "&lt;script&gt;alert(&#34;" in answer.text
    assert "<mark>our logo</mark>" in answer.text


def test_checking_writes_nothing_at_all(cli: Cli, client: TestClient) -> None:
    cli.ok("guidance", "publish", "--as", "dana@example.org")
    before = every_row(cli)
    answer = client.post(
        "/guidance/check", data={"text": "Speaking for the department from home: jo@example.com"}
    )
    assert len(answer.context["findings"]) == 2
    assert every_row(cli) == before


def test_an_empty_or_overlong_draft_is_refused_with_a_message(client: TestClient) -> None:
    empty = client.post("/guidance/check", data={"text": "   "})
    assert empty.status_code == 422
    assert "Type or paste a draft" in empty.text

    overlong = client.post("/guidance/check", data={"text": "a" * (MAX_DRAFT_CHARS + 1)})
    assert overlong.status_code == 413
    assert overlong.context["findings"] is None


def test_the_check_takes_only_a_url_encoded_form(client: TestClient) -> None:
    assert client.post("/guidance/check", json={"text": "hello"}).status_code == 415
    huge = client.post(
        "/guidance/check",
        content=b"text=" + b"a" * 200_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413


def test_the_check_form_cannot_be_submitted_with_get(client: TestClient) -> None:
    assert client.get("/guidance/check").status_code == 405


def test_without_a_permission_map_the_page_says_what_to_do(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        page = client.get("/guidance")
    assert page.status_code == 503
    assert "pressgate init" in page.text


HOSTILE_RULES = [
    "<script>window.pwned = 1</script> Think before you post.",
    "[Read more](javascript:alert(1)) or [the rules](https://www.gov.uk/rules).",
    '<a href="javascript:alert(2)">click</a> and ![logo](https://evil.example/logo.png)',
]


def test_markup_and_script_links_in_the_guidance_come_out_inert(
    cli: Cli, client: TestClient
) -> None:
    """The guidance text is the organisation's, edited by many: whatever is in it, the page
    runs nothing, links nowhere but http(s) and mailto, and fetches nothing."""
    config = cli.settings.config
    rules = ", ".join(f"'{rule}'" for rule in HOSTILE_RULES)
    text = config.read_text(encoding="utf-8")
    assert "\n[guidance]\n" in text
    text = text.replace("\n[guidance]\n", f"\n[guidance]\nground_rules = [{rules}]\n", 1)
    config.write_text(text, encoding="utf-8")
    cli.ok("map", "apply", "--as", "dana@example.org")
    cli.ok("guidance", "publish", "--as", "dana@example.org")
    page = client.get("/guidance")
    assert page.status_code == 200
    assert "<script" not in page.text and "<img" not in page.text
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt; Think before you post." in page.text
    assert "&lt;a href=&quot;javascript:alert(2)&quot;&gt;" in page.text
    assert 'href="javascript' not in page.text.lower()
    assert "[Read more](javascript:alert(1))" in page.text, "left as text, not a link"
    assert '<a href="https://www.gov.uk/rules">the rules</a>' in page.text
    assert 'href="https://evil.example' in page.text and 'src="https://evil.example' not in (
        page.text
    ), "an image is at most a link, never fetched"
