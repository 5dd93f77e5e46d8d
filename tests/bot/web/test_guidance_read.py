"""Reading the guidance: signed-in staff record "I have read this" (as `pressgate guidance
read` does), and the page then says which version they read and when; anyone else can
still read it and use the self-check, but must sign in to record reading it."""

from datetime import timedelta

from tests.bot.conftest import Cli, every_row
from tests.bot.web.conftest import Web

LEAD = ("--as", "dana@example.org")


def test_staff_record_that_they_have_read_the_current_version(web: Web, cli: Cli) -> None:
    cli.ok("guidance", "publish", *LEAD)
    web.sign_in("pat@example.org")
    page = web.client.get("/guidance")
    assert page.context["receipt"] is None
    assert 'action="/guidance/read"' in page.text and "I have read this" in page.text

    cli.clock.advance(timedelta(days=1))
    answer = web.post("/guidance/read")
    assert answer.status_code == 303 and answer.headers["location"] == "/guidance"
    page = web.client.get("/guidance")
    assert "You read version 1 on 25 November 2026." in page.text
    assert 'action="/guidance/read"' not in page.text
    assert "Recorded: you have read version 1" in page.text

    status = {p["email"]: p["read_current"] for p in cli.json("guidance", "status")["people"]}
    assert status["pat@example.org"] is True and status["alice@example.org"] is False
    export = cli.ok("audit", "export").stdout.splitlines()[-1]
    assert '"action":"guidance.read"' in export and '"via":"web"' in export

    before = every_row(cli)
    assert web.post("/guidance/read").status_code == 303, "reading it again changes nothing"
    assert every_row(cli) == before


def test_a_receipt_for_the_same_words_carries_over_a_new_version(web: Web, cli: Cli) -> None:
    cli.ok("guidance", "publish", *LEAD)
    cli.ok("guidance", "read", "--as", "pat@example.org")
    config = cli.settings.config
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            'organisation = "the Department"', 'organisation = "the Ministry"'
        ),
        encoding="utf-8",
    )
    cli.ok("map", "apply", *LEAD)
    cli.ok("guidance", "publish", *LEAD)
    page = web.sign_in("pat@example.org").client.get("/guidance")
    assert page.context["receipt"] is None, "new words: read them again"
    assert "I have read this" in page.text


def test_before_anything_is_published_there_is_nothing_to_record(web: Web, cli: Cli) -> None:
    page = web.sign_in("pat@example.org").client.get("/guidance")
    assert "Not yet published" in page.text and "I have read this" not in page.text
    before = every_row(cli)
    refused = web.post("/guidance/read")
    assert refused.status_code == 409 and "no guidance has been published yet" in refused.text
    assert every_row(cli) == before


def test_anyone_can_read_and_check_but_must_sign_in_to_record(web: Web, cli: Cli) -> None:
    cli.ok("guidance", "publish", *LEAD)
    page = web.client.get("/guidance")
    assert page.status_code == 200 and "Version 1, published" in page.text
    assert 'href="/signin?next=%2Fguidance"' in page.text
    assert "I have read this" not in page.text
    assert web.client.post("/guidance/check", data={"text": "Hello"}).status_code == 200
    before = every_row(cli)
    answer = web.post("/guidance/read")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")
    stranger = web.sign_in("stranger@example.org").client.get("/guidance")
    assert stranger.status_code == 200 and "I have read this" not in stranger.text
    assert web.post("/guidance/read").status_code == 403
    assert every_row(cli) == before


def test_recording_needs_the_sessions_csrf_token(web: Web, cli: Cli) -> None:
    cli.ok("guidance", "publish", *LEAD)
    web.sign_in("pat@example.org")
    before = every_row(cli)
    forged = web.client.post("/guidance/read", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert web.client.get("/guidance/read").status_code == 405
    assert every_row(cli) == before
