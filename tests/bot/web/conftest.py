"""Pages in a real browser: Debian's Chromium driven by Playwright, against pressgate served
by uvicorn on loopback. Outside CI a missing Chromium skips these tests; in CI it fails."""

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, sync_playwright

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
    server = uvicorn.Server(
        uvicorn.Config(create_app(cli.settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)
