"""`POST /api/v1/check`: the live check the drafting page calls; JSON in, findings out,
nothing stored."""

from fastapi.testclient import TestClient

from tests.bot.conftest import Cli, every_row


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
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", "parts", 0, "text"]
    assert client.post("/api/v1/check", json={"parts": []}).status_code == 422


def test_the_check_changes_nothing(client: TestClient, cli: Cli) -> None:
    before = every_row(cli)
    client.post("/api/v1/check", json={"parts": [{"text": "Email jo@example.org"}]})
    assert every_row(cli) == before


def test_get_is_not_allowed(client: TestClient) -> None:
    assert client.get("/api/v1/check").status_code == 405
