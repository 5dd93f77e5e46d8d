"""The actions on the post page: each small form goes to the same service as the CLI,
records `via: web`, and comes back to the page with a notice. A refusal shows the page again
with the service's message as an alert and a 4xx status, and changes nothing: not for the
wrong person, not in the wrong state, not for a stale revision, and not for a forged form
of an action the page did not offer."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.bot.conftest import Cli, every_row
from tests.bot.web.conftest import Web
from tests.bot.web.post_world import (
    ALICE,
    alert,
    apply_map,
    audit_entries,
    detail_of,
    drafted,
    on_fake_x,
    publish_due,
    sandbox_settings,
    web_with,
)

HOUR = timedelta(hours=1)
HALF_HOUR_ON = "2026-11-24 12:30"  # due soon after the tests' clock (12:00 UTC, 12:00 GMT)


def refused(web: Web, url: str, data: dict[str, str], status: int, *words: str) -> Any:
    """Post a form that must be refused: its status, its alert, and not one row changed."""
    before = every_row(web.cli)
    answer = web.post(url, data)
    assert answer.status_code == status, answer.text
    message = alert(answer.text)
    for word in words:
        assert word in message, (word, message)
    assert every_row(web.cli) == before
    return answer


def last_entry(cli: Cli, post_id: int) -> dict[str, Any]:
    return audit_entries(cli, post_id)[-1]


def test_an_officer_submits_a_draft_and_sees_a_notice(web: Web, cli: Cli) -> None:
    post = drafted(cli, "--text", "Ready for review.")
    web.sign_in("alice@example.org")
    answer = web.post(f"/posts/{post['id']}/submit")
    assert answer.status_code == 303 and answer.headers["location"] == f"/posts/{post['id']}"
    page = web.client.get(answer.headers["location"]).text
    assert '<p class="notice ok" role="status">Submitted: the approvers have it now.</p>' in page
    assert cli.json("show", str(post["id"]))["state"] == "submitted"
    entry = last_entry(cli, post["id"])
    assert (entry["action"], entry["actor"], entry["details"]["via"]) == (
        "post.submitted",
        "alice@example.org",
        "web",
    )


def test_submit_is_refused_to_an_approver_in_the_wrong_state_and_with_a_blocking_finding(
    web: Web, cli: Cli
) -> None:
    post = drafted(cli, "--text", "Not bob's to submit.")
    url = f"/posts/{post['id']}/submit"
    page = refused(web.sign_in("bob@example.org"), url, {}, 403, "may not submit on @DeptNews")
    assert page.template.name == "pages/post.html", "the post page again, with the message"
    assert "Not bob&#39;s to submit." in page.text

    cli.ok("submit", str(post["id"]), *ALICE)
    refused(web.sign_in("alice@example.org"), url, {}, 409, "only drafts are submitted")

    phone = drafted(cli, "--text", "Ring 07700 900123.")
    refused(web, f"/posts/{phone['id']}/submit", {}, 409, "blocking policy findings")


def test_withdrawing_keeps_the_reason_and_is_for_the_author(web: Web, cli: Cli) -> None:
    post = drafted(cli, "--text", "Changed our minds.", "--submit")
    url = f"/posts/{post['id']}/withdraw"
    refused(web.sign_in("bob@example.org"), url, {"reason": "no"}, 403, "only its author")

    assert web.sign_in("alice@example.org").post(url, {"reason": "Event cancelled"}).is_redirect
    shown = cli.json("show", str(post["id"]))
    assert (shown["state"], shown["state_reason"]) == ("withdrawn", "Event cancelled")
    assert last_entry(cli, post["id"])["details"]["via"] == "web"
    refused(web, url, {}, 409, "cannot be withdrawn")


def test_scheduling_takes_local_time_in_the_accounts_zone(web: Web, cli: Cli) -> None:
    post = drafted(cli, "--text", "When?")
    url = f"/posts/{post['id']}/schedule"
    web.sign_in("alice@example.org")

    answer = web.post(url, {"when": "2027-06-01T09:30"})
    assert answer.status_code == 303
    assert "Publishing time: 2027-06-01 09:30 BST." in web.client.get(f"/posts/{post['id']}").text
    assert cli.json("show", str(post["id"]))["scheduled_at"] == "2027-06-01T08:30:00Z"

    assert web.post(url, {"when": "2026-12-01T09:30"}).status_code == 303  # rescheduled
    assert cli.json("show", str(post["id"]))["scheduled_at"] == "2026-12-01T09:30:00Z"
    entry = last_entry(cli, post["id"])
    assert entry["action"] == "post.schedule" and entry["details"]["via"] == "web"

    assert web.post(url, {"clear": "1"}).status_code == 303
    assert cli.json("show", str(post["id"]))["scheduled_at"] is None


@pytest.mark.parametrize(
    ("when", "words"),
    [
        ("2026-11-24T11:00", "is in the past"),
        ("2027-03-28T01:30", "does not exist in Europe/London: the clocks go forward"),
        ("2027-10-31T01:30", "happens twice in Europe/London"),
        ("next tuesday", "is not understood"),
        ("", "give the date and time to publish at"),
    ],
)
def test_times_that_are_past_skipped_or_doubled_are_refused(
    web: Web, cli: Cli, when: str, words: str
) -> None:
    post = drafted(cli, "--text", "When?", "--at", "2026-12-01 09:30")
    url = f"/posts/{post['id']}/schedule"
    refused(web.sign_in("alice@example.org"), url, {"when": when}, 422, words)


def test_scheduling_is_refused_to_people_without_the_draft_right(web: Web, cli: Cli) -> None:
    post = drafted(cli, "--text", "When?")
    url = f"/posts/{post['id']}/schedule"
    refused(web.sign_in("bob@example.org"), url, {"when": "2026-12-01T09:30"}, 403, "may not draft")


def test_an_approver_approves_the_revision_shown(web: Web, cli: Cli) -> None:
    post = drafted(cli, "--text", "Sign me off.", "--submit")
    web.sign_in("bob@example.org")
    shown = detail_of(web.client.get(f"/posts/{post['id']}")).view.revision_hash
    answer = web.post(f"/posts/{post['id']}/approve", {"revision_hash": shown})
    assert answer.status_code == 303 and answer.headers["location"] == f"/posts/{post['id']}"
    assert (
        "Approved revision 1: 1 of 2 approvals count."
        in web.client.get(f"/posts/{post['id']}").text
    )
    assert cli.json("show", str(post["id"]))["approvals"] == ["bob@example.org"]
    entry = last_entry(cli, post["id"])
    assert entry["action"] == "approval.approve"
    assert (entry["details"]["via"], entry["details"]["hash"]) == ("web", shown)

    refused(web, f"/posts/{post['id']}/approve", {"revision_hash": shown}, 409, "already decided")


def test_approving_words_that_changed_since_the_page_was_shown_is_refused(
    web: Web, cli: Cli
) -> None:
    post = drafted(cli, "--text", "Old words.", "--submit")
    web.sign_in("bob@example.org")
    shown = detail_of(web.client.get(f"/posts/{post['id']}")).view.revision_hash
    cli.ok("edit", str(post["id"]), *ALICE, "--text", "New words.")
    page = refused(
        web,
        f"/posts/{post['id']}/approve",
        {"revision_hash": shown},
        409,
        "Nothing was recorded: the words changed after this page was shown",
        f"post {post['id']} has changed since revision {shown[:12]}",
        "review the current revision",
    )
    assert "New words." in page.text, "the words as they are now, to review again"
    assert detail_of(page).view.revision == 2


def test_approval_is_refused_without_the_right_to_its_author_and_without_a_hash(
    web: Web, cli: Cli, tmp_path: Path
) -> None:
    post = drafted(cli, "--text", "Mine.", "--submit")
    current = {"revision_hash": post["revision_hash"]}
    url = f"/posts/{post['id']}/approve"
    refused(web.sign_in("alice@example.org"), url, current, 403)  # not offered: forged
    refused(web.sign_in("sam@example.org"), url, current, 403, "may not approve on @DeptNews")
    refused(web.sign_in("bob@example.org"), url, {}, 422, "at least 8 characters")

    apply_map(
        cli,
        tmp_path,
        'slack_id = "U0PAT0001"\nroles = ["press_officer"]',
        'slack_id = "U0PAT0001"\nroles = ["press_officer", "approver"]',
    )
    own = cli.json("draft", "--as", "pat@example.org", "-a", "@DeptNews", "--text", "Pat's.")
    cli.ok("submit", str(own["id"]), "--as", "pat@example.org")
    web.sign_in("pat@example.org")
    assert "approve" not in detail_of(web.client.get(f"/posts/{own['id']}")).actions
    own_hash = {"revision_hash": own["revision_hash"]}
    refused(web, f"/posts/{own['id']}/approve", own_hash, 403, f"wrote post {own['id']}")
    assert "approve" in detail_of(web.client.get(f"/posts/{post['id']}")).actions


def test_a_rejection_needs_a_reason_and_stops_the_post(web: Web, cli: Cli) -> None:
    post = drafted(cli, "--text", "Helo world.", "--submit")
    url = f"/posts/{post['id']}/reject"
    current = post["revision_hash"]
    web.sign_in("bob@example.org")
    refused(web, url, {"revision_hash": current, "reason": "  "}, 422, "say why")

    assert web.post(url, {"revision_hash": current, "reason": "Typo: Helo"}).status_code == 303
    shown = cli.json("show", str(post["id"]))
    assert (shown["state"], shown["state_reason"]) == ("rejected", "Typo: Helo")
    entry = audit_entries(cli, post["id"])[-2]
    assert entry["action"] == "approval.reject" and entry["details"]["via"] == "web"
    refused(web, url, {"revision_hash": current, "reason": "Again"}, 409, "not awaiting review")


def test_a_takedown_deletes_the_post_from_x(cli: Cli) -> None:
    with on_fake_x(cli) as (fake, settings), web_with(cli, settings) as web:
        post = drafted(cli, "--text", "Wrong date.", "--at", HALF_HOUR_ON, account="@DeptHelp")
        unpublished = drafted(cli, "--text", "Not out yet.", account="@DeptHelp")
        cli.ok("submit", str(post["id"]), *ALICE)
        cli.ok("approve", str(post["id"]), "--as", "hana@example.org")
        cli.clock.advance(HOUR)
        assert publish_due(cli, settings) == 1
        url = f"/posts/{post['id']}/takedown"

        refused(web.sign_in("alice@example.org"), url, {"reason": "x"}, 403, "may not takedown")
        web.sign_in("sam@example.org")
        refused(web, url, {"reason": " "}, 409, "a takedown needs a reason")
        refused(web, f"/posts/{unpublished['id']}/takedown", {"reason": "x"}, 409, "only published")
        assert [p.deleted for p in fake.posts] == [False]

        assert web.post(url, {"reason": "Wrong date in the post"}).status_code == 303
        assert [p.deleted for p in fake.posts] == [True]
        shown = cli.json("show", str(post["id"]))
        assert (shown["state"], shown["state_reason"]) == ("taken_down", "Wrong date in the post")
        entry = last_entry(cli, post["id"])
        assert (entry["action"], entry["actor"], entry["details"]["via"]) == (
            "post.taken_down",
            "sam@example.org",
            "web",
        )


def test_a_takedown_in_the_sandbox_completes_at_once(cli: Cli) -> None:
    """The sandbox records the deletion in the takedown's own transaction: on SQLite, with
    one writer, a transaction of its own would wait for the takedown's until it timed out."""
    settings = sandbox_settings(cli).model_copy(update={"sqlite_busy_timeout": 2.0})
    with web_with(cli, settings) as web:
        post = drafted(cli, "--text", "Sandboxed.", "--at", HALF_HOUR_ON, account="@DeptHelp")
        cli.ok("submit", str(post["id"]), *ALICE)
        cli.ok("approve", str(post["id"]), "--as", "hana@example.org")
        cli.clock.advance(HOUR)
        assert publish_due(cli, settings) == 1
        answer = web.sign_in("sam@example.org").post(
            f"/posts/{post['id']}/takedown", {"reason": "Demo"}
        )
        assert answer.status_code == 303, alert(answer.text)
        assert cli.json("show", str(post["id"]))["state"] == "taken_down"


def test_a_takedown_without_a_way_to_x_is_refused_and_says_why(web: Web, cli: Cli) -> None:
    post = drafted(cli, "--text", "Anything.")
    url = f"/posts/{post['id']}/takedown"
    refused(web.sign_in("sam@example.org"), url, {"reason": "x"}, 409, "no X app credentials")


def test_an_action_on_a_post_one_may_not_see_is_not_found(web: Web, cli: Cli) -> None:
    post = drafted(cli, "--text", "Not for hana.", "--submit")
    web.sign_in("hana@example.org")  # approver on @DeptHelp only
    before = every_row(cli)
    for action, data in [
        ("approve", {"revision_hash": post["revision_hash"]}),
        ("reject", {"revision_hash": post["revision_hash"], "reason": "no"}),
        ("withdraw", {}),
        ("submit", {}),
    ]:
        answer = web.post(f"/posts/{post['id']}/{action}", data)
        assert answer.status_code == 404, action
        assert alert(answer.text) == f"post {post['id']} was not found"
        assert web.post(f"/posts/999/{action}", data).status_code == 404
    assert every_row(cli) == before


def test_an_action_without_the_forms_token_is_refused(web: Web, cli: Cli) -> None:
    post = drafted(cli, "--text", "Token please.")
    before = every_row(cli)
    answer = web.sign_in("alice@example.org").client.post(
        f"/posts/{post['id']}/submit", data={"csrf_token": "forged"}, follow_redirects=False
    )
    assert answer.status_code == 403 and "Form expired" in answer.text
    assert every_row(cli) == before
