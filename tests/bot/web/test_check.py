"""`POST /api/v1/check`: the live check the drafting page calls; JSON in, findings out,
nothing stored. Only for a signed-in person of the map, with the CSRF header: the findings
say which words the map blocks and whose personal accounts a handle is."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from approvals.posts import MAX_ALT_TEXT, MAX_PART_CHARS, MAX_PARTS
from bot.web.app import create_app
from tests.bot.conftest import Cli, every_row
from tests.bot.web.conftest import Web

PERSONAL = {"parts": [{"text": "Thanks @alice_ahmed for the photos"}]}


@pytest.fixture
def client(web: Web) -> TestClient:
    """Alice signed in, calling as the compose page does: with her session's CSRF token."""
    web.sign_in("alice@example.org")
    web.client.headers["X-CSRF-Token"] = web.client.get("/api/v1/session").json()["csrf_token"]
    return web.client


def test_a_staff_personal_account_is_named_only_to_someone_signed_in(web: Web) -> None:
    """Nobody outside may probe which handles are staff's own accounts, or which words the
    map blocks: without a session the answer is 401, without the CSRF header 403, and for
    an e-mail the map does not name 403, none of them with a finding."""
    anonymous = web.client.post("/api/v1/check", json=PERSONAL)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert "findings" not in anonymous.json()
    web.sign_in("alice@example.org")
    assert web.client.post("/api/v1/check", json=PERSONAL).status_code == 403  # no header
    token = web.client.get("/api/v1/session").json()["csrf_token"]
    answer = web.client.post("/api/v1/check", json=PERSONAL, headers={"X-CSRF-Token": token})
    assert answer.status_code == 200
    assert [f["rule"] for f in answer.json()["findings"]] == ["mentions.personal_handle"]
    web.sign_in("stranger@example.org")
    stranger = web.client.post("/api/v1/check", json=PERSONAL, headers={"X-CSRF-Token": token})
    assert stranger.status_code == 403 and "findings" not in stranger.json()


def test_findings_and_lengths_come_back_as_json(client: TestClient) -> None:
    response = client.post(
        "/api/v1/check",
        json={"parts": [{"text": "Fine."}, {"text": "Ring 07700 900123", "alt_texts": [None]}]},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False
    assert body["lengths"] == [5, 17]
    assert [(f["part"], f["rule"]) for f in body["findings"]] == [
        (1, "media.alt_text"),  # findings come in order of their position in the part
        (1, "personal_data.uk_phone"),
    ]


def test_a_malformed_payload_is_refused_with_where_and_what(client: TestClient) -> None:
    response = client.post("/api/v1/check", json={"parts": [{"txt": "typo"}]})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": "parts[0].text: Field required",
        "errors": [{"field": "parts[0].text", "rule": "missing", "message": "Field required"}],
    }
    assert client.post("/api/v1/check", json={"parts": []}).status_code == 422


def test_the_check_changes_nothing(client: TestClient, cli: Cli) -> None:
    before = every_row(cli)
    client.post("/api/v1/check", json={"parts": [{"text": "Email jo@example.org"}]})
    assert every_row(cli) == before


def test_get_is_not_allowed(client: TestClient) -> None:
    assert client.get("/api/v1/check").status_code == 405


@pytest.mark.parametrize(
    ("part", "field", "rule", "message"),
    [
        (
            {"text": "a" * (MAX_PART_CHARS + 1)},
            "parts[0].text",
            "string_too_long",
            f"String should have at most {MAX_PART_CHARS} characters",
        ),
        (
            {"text": "Chart", "alt_texts": ["b" * (MAX_ALT_TEXT + 1)]},
            "parts[0].alt_texts[0]",
            "string_too_long",
            f"String should have at most {MAX_ALT_TEXT} characters",
        ),
        (
            {"text": "Chart", "alt_texts": ["x"] * 5},
            "parts[0].alt_texts",
            "too_long",
            "List should have at most 4 items after validation, not 5",
        ),
    ],
)
def test_an_overlong_string_is_refused_by_field_and_rule_without_echoing_it(
    client: TestClient, cli: Cli, part: dict[str, Any], field: str, rule: str, message: str
) -> None:
    before = every_row(cli)
    response = client.post("/api/v1/check", json={"parts": [part]})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["detail"] == f"{field}: {message}"
    assert problem["errors"] == [{"field": field, "rule": rule, "message": message}]
    assert len(response.content) < 1000  # the 25,001 characters do not come back
    assert "aaaa" not in response.text and "bbbb" not in response.text
    assert every_row(cli) == before


def test_a_lone_surrogate_is_a_bad_request_not_a_server_error(client: TestClient, cli: Cli) -> None:
    before = every_row(cli)
    response = client.post(
        "/api/v1/check",
        content=b'{"parts": [{"text": "Hello \\ud800"}]}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == (
        "parts[0].text: the text is not valid Unicode: it holds half of a character "
        "(a lone surrogate such as \\ud800)"
    )
    assert every_row(cli) == before


def test_a_body_that_is_not_json_is_a_bad_request(client: TestClient) -> None:
    response = client.post(
        "/api/v1/check", content=b'{"parts": [', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["rule"] == "json_invalid"
    assert response.json()["detail"].endswith("the body is not valid JSON")


def test_the_check_refuses_as_many_parts_as_a_draft_would(client: TestClient) -> None:
    parts = [{"text": f"Part {n}"} for n in range(MAX_PARTS + 1)]
    response = client.post("/api/v1/check", json={"parts": parts})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "parts"
    assert client.post("/api/v1/check", json={"parts": parts[:MAX_PARTS]}).status_code == 200


def test_a_body_over_the_configured_limit_is_refused_unread(cli: Cli) -> None:
    settings = cli.settings.model_copy(update={"max_request_bytes": 2048})
    with TestClient(create_app(settings)) as client:
        before = every_row(cli)
        response = client.post("/api/v1/check", json={"parts": [{"text": "x" * 3000}]})
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == (
            "The request body is larger than this endpoint accepts (2,048 bytes)."
        )
        assert every_row(cli) == before
        # The guidance form has a limit of its own, set where the app is assembled.
        form = client.post("/guidance/check", data={"text": "x" * 3000})
        assert form.status_code == 200
