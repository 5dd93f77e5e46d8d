"""What `make run` gives a first-time user: `pressgate demo` as a real process, on loopback.
Its front page offers the demo sign-in, and a press officer who picks herself sees her drafts.
"""

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.bot.conftest import free_port
from tests.bot.web.conftest import CSRF


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[str]:
    """`pressgate demo` as `make run` starts it (no settings in the environment), on a free
    port; its base URL once it answers."""
    port = free_port()
    script = Path(sys.executable).parent / "pressgate"
    # As `pressgate_process` runs the CLI: only these variables, no PRESSGATE_* at all.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    command = [str(script), "demo", "--data-dir", str(tmp_path / "demo"), "--port", str(port)]
    log = (tmp_path / "demo.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "demo.log").read_text()
            assert time.monotonic() < deadline, "pressgate demo did not start"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_make_run_offers_the_demo_sign_in_and_a_press_officer_sees_her_drafts(demo: str) -> None:
    with httpx.Client(base_url=demo, timeout=10) as browser:
        front = browser.get("/")
        assert front.status_code == 303 and front.headers["location"].startswith("/signin")
        page = browser.get(front.headers["location"])
        assert page.status_code == 200
        assert 'action="/signin/demo"' in page.text and "alice@example.org" in page.text
        token = CSRF.search(page.text)
        assert token, "the sign-in page carries the session's CSRF token"

        signed_in = browser.post(
            "/signin/demo", data={"csrf_token": token.group(1), "email": "alice@example.org"}
        )
        assert signed_in.status_code == 303
        home = browser.get(signed_in.headers["location"])
        assert home.status_code == 200
        assert "Draft: our annual report is out next week." in home.text
        assert re.search(r"alice@example\.org|Alice Ahmed", home.text)
        drafts = browser.get("/api/v1/inbox").json()["drafts"]
        assert [row["author"] for row in drafts] == ["alice@example.org"] * len(drafts)
        assert drafts, "the demo press officer has drafts"
