"""schemathesis against the app's own `/openapi.json`, signed in: whatever it sends to any
operation (valid and invalid bodies, paths, queries and headers), the answer is never a
500. Each operation is called as someone who may use it (a press officer, an approver, the
duty officer), so the generated requests reach the domain, not only the sign-in check.
"""

import traceback
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from schemathesis import Case, GenerationMode

from bot.web.app import create_app
from tests.bot.conftest import Cli
from tests.bot.web.conftest import PROXY_HEADER, TRUSTED, web_settings
from tests.bot.web.post_world import drafted

EXAMPLES = 25  # per operation and kind of database: under a minute each
SEEDED = (1, 2, 3)
DROPPED = {"connection", "accept-encoding", "user-agent", "x-schemathesis-testcaseid"}


def persona(path: str) -> str:
    """Whoever may use the operation, so its requests get past the map to the rules."""
    if "/approve" in path or "/reject" in path or path.startswith("/a/"):
        return "bob@example.org"
    if any(word in path for word in ("takedown", "pause", "resume", "duty")):
        return "sam@example.org"
    return "alice@example.org"


@pytest.fixture
def client(cli: Cli) -> Iterator[TestClient]:
    """The app with a few posts in it (SEEDED: a draft, one in review, one approved), and
    Slack configured (so its routes check signatures rather than answer 503)."""
    drafted(cli, "--text", "A draft.")
    review = drafted(cli, "--text", "In review.", "--submit")
    approved = drafted(cli, "--text", "Approved.", "--submit", account="@DeptHelp")
    cli.ok("approve", str(approved["id"]), "--as", "hana@example.org")
    assert [p["id"] for p in (review, approved)] == list(SEEDED[1:])
    slack = SecretStr("schema-slack-signing-secret-0123456789")
    app = create_app(web_settings(cli, sandbox=True, slack_signing_secret=slack), clock=cli.clock)
    with TestClient(app, client=TRUSTED) as test_client:
        yield test_client
    app.state.engine.dispose()


def send(client: TestClient, case: Case) -> tuple[int, str | None]:
    """The generated request, as the signed-in person with the session's CSRF token (read
    afresh: a generated sign-out ends the session); the status, or the traceback of an
    exception the app let escape."""
    who = persona(case.operation.path)
    token = client.get("/api/v1/session", headers={PROXY_HEADER: who}).json()["csrf_token"]
    kwargs: dict[str, Any] = case.as_transport_kwargs(base_url="http://testserver")
    headers = {k: str(v) for k, v in kwargs.get("headers", {}).items() if k.lower() not in DROPPED}
    headers |= {"X-CSRF-Token": token, PROXY_HEADER: who}
    body: dict[str, Any] = {}
    if "json" in kwargs:
        body["json"] = kwargs["json"]
    elif isinstance(kwargs.get("data"), dict):
        body["data"] = kwargs["data"]
    elif kwargs.get("data") is not None:
        body["content"] = kwargs["data"]
    try:
        answer = client.request(
            kwargs["method"],
            kwargs["url"],
            params=kwargs.get("params"),
            headers=headers,
            follow_redirects=False,
            **body,
        )
    except Exception:
        return 500, traceback.format_exc(limit=-6)
    return answer.status_code, None


def explore(client: TestClient, operation: Any, failures: dict[str, str]) -> None:
    """Up to EXAMPLES valid and invalid requests to one operation; the first 500 is kept."""
    name = f"{operation.method.upper()} {operation.path}"
    strategies = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
    if "{post_id}" in operation.path:  # half the time, a post that exists
        strategies += [
            operation.as_strategy(generation_mode=mode, path_parameters={"post_id": post})
            for mode in GenerationMode
            for post in SEEDED
        ]
    strategy = st.one_of(strategies)

    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=strategy)
    def run(case: Case) -> None:
        if name in failures:
            return
        status, error = send(client, case)
        if status >= 500:
            failures[name] = f"{status}: {case.as_curl_command()}\n{error or ''}"

    run()


def test_no_operation_answers_500(client: TestClient, cli: Cli) -> None:
    schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert any(op.path == "/api/v1/posts/{post_id}/approve" for op in operations)
    failures: dict[str, str] = {}
    for operation in operations:
        explore(client, operation, failures)
    assert failures == {}, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
