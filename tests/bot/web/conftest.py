"""Pages: through the app in-process (`web`: one browser's session, signed in as anyone), and
in a real browser (Debian's Chromium driven by Playwright, against pressgate served by
uvicorn on loopback; outside CI a missing Chromium skips those tests, in CI it fails)."""

import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from httpx import Response
from playwright.sync_api import Browser, sync_playwright

from bot.settings import Settings
from bot.web.app import create_app
from tests.bot.conftest import Cli, free_port

CHROMIUM = Path(os.environ.get("PRESSGATE_TEST_CHROMIUM") or shutil.which("chromium") or "")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        message = "Chromium is needed for page tests (Debian package `chromium`)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with sync_playwright() as playwright:
        # Chromium's sandbox needs user namespaces, which a root CI container lacks.
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def live_server(cli: Cli) -> Iterator[str]:
    """The web app over the `cli` fixture's database, served for real on a free port."""
    port = free_port()
    app = create_app(cli.settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)
    app.state.engine.dispose()


PROXY_HEADER = "X-Test-Signed-In-Email"
TRUSTED = ("127.0.0.1", 50000)
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


@dataclass
class Web:
    """The web app as one browser sees it. People sign in as they would behind an SSO proxy
    (a trusted header names them), so any e-mail can be tried, even one the map lacks; forms
    are posted with the session's CSRF token, as the pages' own forms are."""

    client: TestClient
    cli: Cli

    def sign_in(self, email: str | None) -> "Web":
        if email is None:
            self.client.headers.pop(PROXY_HEADER, None)
        else:
            self.client.headers[PROXY_HEADER] = email
        return self

    def csrf(self) -> str:
        found = CSRF.search(self.client.get("/signin").text)
        assert found, "every page carries the session's CSRF token"
        return found.group(1)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Response:
        """A form post, with the token, not following the redirect it answers with."""
        form = {"csrf_token": self.csrf(), **(data or {})}
        return self.client.post(url, data=form, follow_redirects=False, **kwargs)


def web_settings(cli: Cli, **changes: Any) -> Settings:
    return cli.settings.model_copy(
        update={"proxy_auth_header": PROXY_HEADER, "trusted_proxies": ["127.0.0.1"], **changes}
    )


@pytest.fixture
def web(cli: Cli) -> Iterator[Web]:
    app = create_app(web_settings(cli), clock=cli.clock)
    with TestClient(app, client=TRUSTED) as client:
        yield Web(client, cli)
    app.state.engine.dispose()  # PostgreSQL's connections are few and shared by every run
