"""Approving and rejecting from Slack: a click decides on exactly the revision its button
names, for the person the map says that Slack user is, through the same service as the CLI
(`via: slack`); the clicker is answered alone (response_url). Every refusal changes nothing:
not a row, not the audit head."""

import json
from typing import Any
from urllib.parse import urlencode

from fastapi.testclient import TestClient

from bot.web.app import create_app
from tests.bot.conftest import Cli, every_row
from tests.bot.slack.conftest import (
    ALICE,
    BOB,
    CAROL,
    HANA,
    SIGNING_SECRET,
    STRANGER,
    Slack,
    block_actions,
    minutes,
    slack_settings,
    slack_signature,
)
from tests.bot.web.post_world import ALICE as AS_ALICE
from tests.bot.web.post_world import audit_entries, drafted
from tests.fakes.fake_slack import FakeSlack


def submitted(cli: Cli, text: str = "Applications open on Monday.", **kwargs: Any) -> Any:
    return drafted(cli, "--text", text, "--submit", **kwargs)


def approvals(cli: Cli, post_id: int) -> list[str]:
    approved: list[str] = cli.json("show", str(post_id))["approvals"]
    return approved


def test_a_click_on_approve_approves_that_revision_via_slack(slack: Slack, cli: Cli) -> None:
    post = submitted(cli)
    answer = slack.approve(BOB, post)
    assert answer.status_code == 200 and answer.content == b""
    assert approvals(cli, post["id"]) == ["bob@example.org"]
    (told,) = slack.fake.answers()
    assert told == (
        f"You approved revision 1 of post {post['id']} on @DeptNews: 1 of 2 approvals count."
    )
    (call,) = slack.fake.of("response")
    assert call.path == f"/response/{BOB}"
    assert call.body["response_type"] == "ephemeral" and call.body["replace_original"] is False
    entry = audit_entries(cli, post["id"])[-1]
    assert entry["action"] == "approval.approve" and entry["actor"] == "bob@example.org"
    assert entry["details"]["via"] == "slack"


def test_the_second_approval_reaches_the_quorum(slack: Slack, cli: Cli) -> None:
    post = submitted(cli)
    slack.approve(BOB, post)
    slack.approve(CAROL, post)
    assert cli.json("show", str(post["id"]))["state"] == "approved"
    assert slack.fake.answers()[-1].endswith("2 of 2 approvals count. It is approved now.")


def test_a_bad_signature_is_refused_and_changes_nothing(slack: Slack, cli: Cli) -> None:
    post = submitted(cli)
    before = every_row(cli)
    wrong_secret = slack.approve(BOB, post, secret="not-the-signing-secret-0123456789")
    assert wrong_secret.status_code == 401
    assert "no valid Slack signature" in wrong_secret.json()["detail"]
    assert slack.approve(BOB, post, signature="v0=" + "0" * 64).status_code == 401
    assert slack.approve(BOB, post, signature="").status_code == 401
    assert every_row(cli) == before
    assert slack.fake.calls == []


def test_a_body_changed_after_signing_is_refused(slack: Slack, cli: Cli) -> None:
    post = submitted(cli)
    before = every_row(cli)
    timestamp = str(int(slack.clock.now().timestamp()))
    harmless = urlencode({"payload": json.dumps({"type": "shortcut", "user": {"id": BOB}})})
    signature = slack_signature(SIGNING_SECRET, timestamp, harmless.encode())
    click = block_actions(BOB, "pressgate_approve", f"{post['id']}:{post['revision_hash']}", "")
    answer = slack.client.post(
        "/slack/interactions",
        content=urlencode({"payload": json.dumps(click)}).encode(),
        headers={"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature},
    )
    assert answer.status_code == 401
    assert every_row(cli) == before


def test_a_timestamp_six_minutes_old_is_refused_and_changes_nothing(slack: Slack, cli: Cli) -> None:
    post = submitted(cli)
    before = every_row(cli)
    old = slack.approve(BOB, post, at=slack.clock.now() - minutes(6))
    assert old.status_code == 401
    ahead = slack.approve(BOB, post, at=slack.clock.now() + minutes(6))
    assert ahead.status_code == 401
    assert every_row(cli) == before
    assert slack.fake.calls == []
    assert slack.approve(BOB, post, at=slack.clock.now() - minutes(4.5)).status_code == 200
    assert approvals(cli, post["id"]) == ["bob@example.org"], "inside the window it counts"


def test_a_missing_or_non_numeric_timestamp_is_refused(slack: Slack, cli: Cli) -> None:
    post = submitted(cli)
    before = every_row(cli)
    body = b"payload=%7B%7D"
    for timestamp in (None, "yesterday", "", "1e9"):
        headers = {"X-Slack-Signature": "v0=" + "0" * 64}
        if timestamp is not None:
            headers["X-Slack-Request-Timestamp"] = timestamp
        answer = slack.client.post("/slack/interactions", content=body, headers=headers)
        assert answer.status_code == 401, timestamp
    assert every_row(cli) == before
    assert approvals(cli, post["id"]) == []


def test_an_unknown_slack_user_is_told_and_nothing_changes(slack: Slack, cli: Cli) -> None:
    post = submitted(cli)
    before = every_row(cli)
    assert slack.approve(STRANGER, post).status_code == 200
    (told,) = slack.fake.answers()
    assert "pressgate does not know you (Slack user U0NOBODY1)" in told
    assert told.startswith("Nothing was recorded")
    assert every_row(cli) == before


def test_an_approver_without_rights_on_the_account_is_refused(slack: Slack, cli: Cli) -> None:
    post = submitted(cli)  # @DeptNews: Hana approves on @DeptHelp only
    before = every_row(cli)
    slack.approve(HANA, post)
    (told,) = slack.fake.answers()
    assert told == "Nothing was recorded: hana@example.org may not approve on @DeptNews."
    assert every_row(cli) == before


def test_the_author_cannot_approve_their_own_post(slack: Slack, cli: Cli) -> None:
    post = submitted(cli)
    before = every_row(cli)
    slack.approve(ALICE, post)
    (told,) = slack.fake.answers()
    assert f"alice@example.org wrote post {post['id']} and may not review it" in told
    assert every_row(cli) == before


def test_a_button_for_an_older_revision_is_refused(slack: Slack, cli: Cli) -> None:
    post = submitted(cli)
    cli.ok("edit", str(post["id"]), *AS_ALICE, "--text", "Applications open on Tuesday.")
    before = every_row(cli)
    slack.approve(BOB, post)  # the button of the first request message
    (told,) = slack.fake.answers()
    assert told.startswith("Nothing was recorded: the words changed after this message was sent")
    assert "(revision 2)" in told
    assert every_row(cli) == before


def test_a_second_click_is_refused_and_changes_nothing(slack: Slack, cli: Cli) -> None:
    post = submitted(cli)
    slack.approve(BOB, post)
    before = every_row(cli)
    slack.approve(BOB, post)
    told = slack.fake.answers()[-1]
    assert told == (
        f"Nothing was recorded: bob@example.org already decided on revision 1 of post "
        f"{post['id']} (approve)."
    )
    assert every_row(cli) == before


def test_a_button_value_pressgate_did_not_make_decides_nothing(slack: Slack, cli: Cli) -> None:
    post = submitted(cli)
    before = every_row(cli)
    too_big = f"99999999999:{post['revision_hash']}"
    for value in ("", "12", f"{post['id']}:xyz", "0:abcdef12", too_big):
        assert slack.click(BOB, "pressgate_approve", value).status_code == 200
    assert all("not made by pressgate" in told for told in slack.fake.answers())
    assert len(slack.fake.answers()) == 5
    assert every_row(cli) == before


def test_a_payload_that_is_not_json_is_bad_input(slack: Slack, cli: Cli) -> None:
    submitted(cli)
    before = every_row(cli)
    for payload in ("{not json", "[1, 2]", ""):
        answer = slack.signed("/slack/interactions", {"payload": payload})
        assert answer.status_code == 400, payload
    assert every_row(cli) == before


def test_the_review_button_and_other_interactions_are_acknowledged_and_ignored(
    slack: Slack, cli: Cli
) -> None:
    post = submitted(cli)
    before = every_row(cli)
    assert slack.click(BOB, "pressgate_review", str(post["id"])).status_code == 200
    other = {"type": "shortcut", "callback_id": "something", "user": {"id": BOB}}
    assert slack.signed("/slack/interactions", {"payload": json.dumps(other)}).status_code == 200
    assert slack.fake.calls == []
    assert every_row(cli) == before


def test_reject_opens_a_modal_and_its_reason_rejects_the_post(slack: Slack, cli: Cli) -> None:
    post = submitted(cli)
    value = f"{post['id']}:{post['revision_hash']}"
    assert slack.click(CAROL, "pressgate_reject", value).status_code == 200
    (opened,) = slack.fake.of("views.open")
    assert opened.token == slack.fake.bot_token
    assert opened.body["trigger_id"] == "trigger-1"
    view = opened.body["view"]
    assert view["callback_id"] == "pressgate_reject"
    assert "Reject revision 1 of post" in view["blocks"][0]["text"]["text"]
    assert cli.json("show", str(post["id"]))["state"] == "submitted", "opening decides nothing"

    answer = slack.submit_view(CAROL, view, "  The date is wrong.  ")
    assert answer.status_code == 200 and answer.content == b"", "an empty answer closes it"
    shown = cli.json("show", str(post["id"]))
    assert shown["state"] == "rejected" and shown["state_reason"] == "The date is wrong."
    assert slack.fake.answers()[-1] == (
        f"You rejected revision 1 of post {post['id']} on @DeptNews: the author has your reason."
    )
    entry = audit_entries(cli, post["id"])[-2]
    assert entry["action"] == "approval.reject"
    assert entry["details"]["via"] == "slack"


def test_an_empty_reason_keeps_the_modal_open_with_the_error_on_the_field(
    slack: Slack, cli: Cli
) -> None:
    post = submitted(cli)
    slack.click(CAROL, "pressgate_reject", f"{post['id']}:{post['revision_hash']}")
    view = slack.fake.of("views.open")[0].body["view"]
    before = every_row(cli)
    answer = slack.submit_view(CAROL, view, "   ")
    assert answer.status_code == 200
    assert answer.json() == {
        "response_action": "errors",
        "errors": {"reason": "Say why the post is rejected: the author needs a reason to act on."},
    }
    assert every_row(cli) == before


def test_reject_by_someone_who_may_not_is_refused_before_any_modal(slack: Slack, cli: Cli) -> None:
    post = submitted(cli)
    before = every_row(cli)
    slack.click(HANA, "pressgate_reject", f"{post['id']}:{post['revision_hash']}")
    assert slack.fake.of("views.open") == []
    assert slack.fake.answers() == [
        "Nothing was recorded: hana@example.org may not approve on @DeptNews."
    ]
    assert every_row(cli) == before


def test_a_modal_submitted_after_the_post_changed_rejects_nothing(slack: Slack, cli: Cli) -> None:
    post = submitted(cli)
    slack.click(CAROL, "pressgate_reject", f"{post['id']}:{post['revision_hash']}")
    view = slack.fake.of("views.open")[0].body["view"]
    cli.ok("edit", str(post["id"]), *AS_ALICE, "--text", "Applications open on Tuesday.")
    before = every_row(cli)
    slack.submit_view(CAROL, view, "The date is wrong.")
    assert slack.fake.answers()[-1].startswith("Nothing was recorded: the words changed")
    assert every_row(cli) == before


def test_a_response_url_not_on_slack_is_never_called(slack: Slack, cli: Cli) -> None:
    post = submitted(cli)
    value = f"{post['id']}:{post['revision_hash']}"
    payload = block_actions(BOB, "pressgate_approve", value, "http://10.0.0.1:9/steal")
    slack.signed("/slack/interactions", {"payload": json.dumps(payload)})
    assert slack.fake.of("response") == []
    (ephemeral,) = slack.fake.of("chat.postEphemeral")  # answered the other way instead
    assert ephemeral.token == slack.fake.bot_token
    assert (ephemeral.body["channel"], ephemeral.body["user"]) == ("C0PRESS01", BOB)
    assert ephemeral.body["text"].startswith("You approved revision 1")


def test_without_a_bot_token_reject_points_to_the_review_page(
    cli: Cli, slack_fake: FakeSlack
) -> None:
    post = submitted(cli)
    settings = slack_settings(cli.settings, slack_fake).model_copy(update={"slack_bot_token": None})
    app = create_app(settings, clock=cli.clock)
    with TestClient(app) as client:
        door = Slack(client, slack_fake, cli.clock)
        before = every_row(cli)
        door.click(CAROL, "pressgate_reject", f"{post['id']}:{post['revision_hash']}")
    app.state.engine.dispose()
    assert slack_fake.of("views.open") == []
    assert slack_fake.answers() == [
        "pressgate could not ask for your reason here: reject on "
        f"http://127.0.0.1:8000/posts/{post['id']}/review"
    ]
    assert every_row(cli) == before
