"""Every response carries the headers that keep a browser to pressgate's own content: a
Content-Security-Policy with no inline script, no framing, nosniff and no Referer; pages
that show someone's unpublished words also keep browsers from caching them."""

import pytest
from fastapi.testclient import TestClient

from bot.web.security import CONTENT_SECURITY_POLICY

REQUESTS = [
    ("GET", "/healthz", None),
    ("GET", "/readyz", None),
    ("GET", "/guidance", None),
    ("POST", "/guidance/check", {"text": "Ring me on 07700 900123"}),
    ("POST", "/api/v1/check", None),
    ("GET", "/static/pressgate.css", None),
    ("GET", "/no/such/page", None),
    ("POST", "/healthz", None),
]


@pytest.mark.parametrize(("method", "path", "form"), REQUESTS)
def test_every_response_carries_the_security_headers(
    client: TestClient, method: str, path: str, form: dict[str, str] | None
) -> None:
    json_body = {"parts": [{"text": "Hello"}]} if path.startswith("/api/") else None
    response = client.request(method, path, data=form, json=json_body)
    headers = response.headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"


def test_the_policy_allows_no_inline_script_or_style_and_no_framing() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'" and directives["form-action"] == "'self'"


def test_a_checked_draft_is_still_not_cached(client: TestClient) -> None:
    answer = client.post("/guidance/check", data={"text": "My draft"})
    assert answer.headers["cache-control"] == "no-store"


def test_the_stylesheet_is_served_by_the_app_itself(client: TestClient) -> None:
    css = client.get("/static/pressgate.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert ".guidance" in css.text
