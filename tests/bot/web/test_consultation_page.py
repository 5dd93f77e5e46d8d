"""The consultation page: staff comment on the draft of the guidance in the browser, the
union representative signs it off, the policy owner answers and publishes, all through the
same functions as `pressgate guidance consult`."""

from datetime import timedelta

from tests.bot.conftest import Cli
from tests.bot.maps import with_union_role
from tests.bot.web.conftest import Web


def test_staff_comment_and_the_owner_answers_and_publishes_in_the_browser(
    web: Web, cli: Cli
) -> None:
    with_union_role(cli)
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
    web.sign_in("alice@example.org")
    page = web.client.get("/guidance/consultation")
    assert page.status_code == 200 and "Open for comments until" in page.text
    sent = web.post("/guidance/consultation/comment", {"consultation_id": "1", "body": "<b>Hi</b>"})
    assert sent.status_code == 303
    web.sign_in("bob@example.org")
    seen = web.client.get("/guidance/consultation").text
    assert "&lt;b&gt;Hi&lt;/b&gt;" in seen and "alice@example.org" not in seen
    assert (
        web.post("/guidance/consultation/answer", {"comment_id": "1", "text": "x"}).status_code
        == 403
    )

    web.sign_in("sam@example.org")
    assert "Sign off this draft" in web.client.get("/guidance/consultation").text
    assert web.post("/guidance/consultation/sign-off", {"consultation_id": "1"}).status_code == 303

    web.sign_in("dana@example.org")
    owner_sees = web.client.get("/guidance/consultation").text
    assert "alice@example.org" in owner_sees
    assert (
        web.post("/guidance/consultation/answer", {"comment_id": "1", "text": "Thanks"}).status_code
        == 303
    )
    early = web.post("/guidance/consultation/publish", {"consultation_id": "1"})
    assert early.status_code == 409 and "open for comments until" in early.text
    cli.clock.advance(timedelta(days=2))
    assert web.post("/guidance/consultation/publish", {"consultation_id": "1"}).status_code == 303
    done = web.client.get("/guidance/consultation").text
    assert "0 of 8 staff have acknowledged guidance version 1" in done
    assert "signed off by sam@example.org" in done


def test_a_comment_needs_the_csrf_token(web: Web, cli: Cli) -> None:
    cli.ok("guidance", "consult", "open", "--as", "dana@example.org", "--until", "2026-11-25 17:00")
    web.sign_in("alice@example.org")
    bare = web.client.post(
        "/guidance/consultation/comment", data={"consultation_id": "1", "body": "x"}
    )
    assert bare.status_code == 403
