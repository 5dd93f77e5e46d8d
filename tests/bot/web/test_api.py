"""The JSON API: the pages' actions for programs, through the same services, with the same
rights. A signed-in session and its CSRF token in `X-CSRF-Token`; refusals are problem
documents and change nothing."""

from pathlib import Path
from typing import Any

from httpx import Response

from tests.bot.conftest import Cli, every_row
from tests.bot.web.conftest import Web
from tests.bot.web.post_world import apply_map, audit_entries, drafted

PROBLEM = "application/problem+json"


def api(web: Web, method: str, url: str, body: Any = None, *, token: bool = True) -> Response:
    headers = {"X-CSRF-Token": web.client.get("/api/v1/session").json()["csrf_token"]}
    return web.client.request(method, "/api/v1" + url, json=body, headers=headers if token else {})


def refused(web: Web, method: str, url: str, body: Any, status: int, *words: str) -> Any:
    before = every_row(web.cli)
    answer = api(web, method, url, body)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    for word in words:
        assert word in answer.json()["detail"], (word, answer.json())
    assert every_row(web.cli) == before
    return answer.json()


def test_a_thread_goes_from_draft_to_approved_through_the_api(web: Web, cli: Cli) -> None:
    web.sign_in("alice@example.org")
    body = {"account": "@DeptNews", "parts": [{"text": "One."}, {"text": "Two."}]}
    made = api(web, "POST", "/posts", body)
    assert made.status_code == 201, made.text
    post = made.json()
    assert (post["state"], len(post["parts"]), post["author"]) == ("draft", 2, "alice@example.org")
    assert "submit" in post["actions"]
    first_hash = post["revision_hash"]

    change = {"expected_hash": first_hash, "parts": [{"text": "One, better."}]}
    edited = api(web, "PATCH", f"/posts/{post['id']}", change | {"at": "2026-12-01 09:30"}).json()
    assert edited["revision"] == 2 and edited["scheduled_local"].startswith("2026-12-01 09:30")
    stale = {"expected_hash": first_hash, "parts": [{"text": "Lost."}]}
    refused(web, "PATCH", f"/posts/{post['id']}", stale, 409)

    submitted = api(web, "POST", f"/posts/{post['id']}/submit").json()
    assert submitted["state"] == "submitted"
    inbox = api(web.sign_in("bob@example.org"), "GET", "/inbox").json()
    assert [row["id"] for row in inbox["awaiting_me"]] == [post["id"]]

    refused(web, "POST", f"/posts/{post['id']}/approve", {"revision_hash": first_hash}, 409)
    for approver in ("bob@example.org", "carol@example.org"):
        web.sign_in(approver)
        shown = {"revision_hash": edited["revision_hash"]}
        done = api(web, "POST", f"/posts/{post['id']}/approve", shown)
        assert done.status_code == 200, done.text
    assert done.json()["state"] == "queued"
    entries = audit_entries(cli, post["id"])
    approvals = [e for e in entries if e["action"] == "approval.approve"]
    assert [e["details"]["via"] for e in approvals] == ["web", "web"]


def test_the_api_refuses_what_the_map_refuses_and_changes_nothing(web: Web, cli: Cli) -> None:
    web.sign_in("bob@example.org")
    body = {"account": "@DeptNews", "parts": [{"text": "Not bob's."}]}
    refused(web, "POST", "/posts", body, 403, "may not draft")
    refused(web, "POST", "/pause", {"reason": "no right"}, 403)
    web.sign_in("alice@example.org")
    post = api(web, "POST", "/posts", {"account": "@DeptNews", "parts": [{"text": "Mine."}]}).json()
    web.sign_in("hana@example.org")  # approves @DeptHelp only: the post is not hers to see
    refused(web, "GET", f"/posts/{post['id']}", None, 404, "not found")
    refused(web, "POST", f"/posts/{post['id']}/withdraw", {}, 404, "not found")


def test_signing_in_and_the_csrf_header_come_first(web: Web, cli: Cli) -> None:
    anonymous = web.client.post("/api/v1/posts", json={"account": "@DeptNews", "parts": []})
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == PROBLEM
    assert web.client.get("/api/v1/inbox").status_code == 401
    web.sign_in("alice@example.org")
    body = {"account": "@DeptNews", "parts": [{"text": "Forged."}]}
    before = every_row(cli)
    forged = api(web, "POST", "/posts", body, token=False)
    assert forged.status_code == 403 and "X-CSRF-Token" in forged.json()["detail"]
    assert every_row(cli) == before


def test_bad_input_is_a_problem_document_naming_the_field(web: Web, cli: Cli) -> None:
    web.sign_in("alice@example.org")
    problem = refused(web, "POST", "/posts", {"account": "@DeptNews", "parts": []}, 422, "parts")
    assert problem["errors"][0]["field"] == "parts"
    refused(web, "POST", "/posts", {"account": "@DeptNews", "parts": [{"txt": "x"}]}, 422)
    refused(web, "POST", "/posts/1/reject", {"revision_hash": "x", "reason": "  "}, 422, "reason")
    past = {"account": "@DeptNews", "parts": [{"text": "Late."}], "at": "2020-01-01 09:00"}
    refused(web, "POST", "/posts", past, 422, "in the past")
    too_big = web.client.post(
        "/api/v1/pause",
        content=b"{" + b" " * 20_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert too_big.status_code == 413


def test_the_openapi_schema_documents_the_api(web: Web) -> None:
    schema = web.client.get("/openapi.json").json()
    paths = schema["paths"]
    assert {"/api/v1/posts", "/api/v1/posts/{post_id}/approve", "/api/v1/inbox"} <= set(paths)
    approve = paths["/api/v1/posts/{post_id}/approve"]["post"]
    assert approve["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Approve"
    )
    refusal = approve["responses"]["409"]["content"]["application/problem+json"]["schema"]
    assert refusal["$ref"].endswith("/Problem")


def test_a_control_character_in_a_reason_is_refused_not_stored(web: Web, cli: Cli) -> None:
    """PostgreSQL refuses NUL in text: the services refuse it first, with a 422."""
    mine = drafted(cli, "--text", "Mine.")
    waiting = drafted(cli, "--text", "Waiting.", "--submit")
    bad = "wrong\x00date"
    web.sign_in("alice@example.org")
    refused(web, "POST", f"/posts/{mine['id']}/withdraw", {"reason": bad}, 422, "U+0000 NULL")
    web.sign_in("bob@example.org")
    decision = {"revision_hash": waiting["revision_hash"], "reason": bad}
    refused(web, "POST", f"/posts/{waiting['id']}/reject", decision, 422, "U+0000 NULL")
    web.sign_in("sam@example.org")
    refused(web, "POST", "/pause", {"account": "@DeptNews", "reason": bad}, 422, "U+0000 NULL")


def test_an_account_name_that_is_no_handle_is_not_found(web: Web) -> None:
    """Not looked up at all: PostgreSQL would refuse the NUL in the query (a 500)."""
    web.sign_in("alice@example.org")
    assert web.client.get("/calendar", params={"account": "News\x00"}).status_code == 404
    body = {"account": "@DeptNews", "parts": [{"text": "x"}]}
    assert api(web, "POST", "/posts", body | {"account": "@Dept\x00"}).status_code == 422


def test_a_timed_pause_and_the_two_person_resume_of_all_publishing(
    web: Web, cli: Cli, tmp_path: Path
) -> None:
    apply_map(
        cli, tmp_path, 'roles = ["strategy_lead"]', 'roles = ["strategy_lead", "duty_officer"]'
    )
    web.sign_in("sam@example.org")
    timed = {"account": "@DeptNews", "reason": "Minister's statement", "until": "2026-11-24 18:00"}
    paused = api(web, "POST", "/pause", timed).json()
    assert (paused["paused"], paused["until"]) == (True, "2026-11-24T18:00:00Z")
    refused(web, "POST", "/pause", timed | {"until": "2026-11-24 11:00"}, 422, "in the past")

    assert api(web, "POST", "/pause", {"reason": "Major incident"}).json()["paused"] is True
    asked = api(web, "POST", "/resume", {}).json()
    assert (asked["paused"], asked["resume_requested"]) == (True, True)
    refused(web, "POST", "/resume", {}, 409, "two-person rule")
    lifted = api(web.sign_in("dana@example.org"), "POST", "/resume", {}).json()
    assert (lifted["paused"], lifted["resume_requested"]) == (False, False)
