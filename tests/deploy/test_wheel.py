"""The built wheel works outside the source tree, as an operator installs it.

The wheel is built and installed by the two scripts the Dockerfile runs
(deploy/build-wheel.sh, deploy/install-wheel.sh) into a fresh virtual environment in a
temporary folder; every command then runs from another temporary folder with only the
environment an operator sets, so nothing of the checkout (templates, migrations, the
example map) can be found by accident. Slow-ish (a venv and a dependency install), so it
is marked `slow`; it runs in CI like every other test.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.bot.conftest import free_port
from tests.factories import REPO

pytestmark = pytest.mark.slow
SECRET = "Wheel-test-0123456789-abcdefghijKLMNOP-qrstuv"
BUILD = REPO / "deploy" / "build-wheel.sh"
INSTALL = REPO / "deploy" / "install-wheel.sh"


def _run(
    args: list[str], *, env: dict[str, str], cwd: Path | None = None
) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        args, capture_output=True, text=True, timeout=600, check=False, env=env, cwd=cwd
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A venv holding pressgate from its wheel; yields the venv's bin folder."""
    root = tmp_path_factory.mktemp("wheel")
    wheels, venv = root / "dist", root / "venv"
    # The scripts run python3 from PATH: the interpreter of this test run.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    built = _run(["sh", str(BUILD), str(REPO), str(wheels)], env=env)
    assert built.returncode == 0, built.stderr[-3000:]
    done = _run(["sh", str(INSTALL), str(venv), str(wheels)], env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    yield venv / "bin"


def test_the_wheel_carries_templates_migrations_and_the_example_map(
    installed: Path, tmp_path: Path
) -> None:
    python = installed / "python"
    probe = (
        "import approvals.files as f, approvals.migrate as m;"
        "print(f.shipped_root()); print(m.MIGRATIONS); print(m.known_revisions()[-1])"
    )
    result = _run([str(python), "-c", probe], cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    root, migrations, head = result.stdout.split()
    assert "site-packages" in root and "site-packages" in migrations
    assert not root.startswith(str(REPO))
    for relative in (
        "templates/pages/base.html",
        "templates/static/pressgate.css",
        "templates/posts/deadline_reminder.j2",
        "templates/guidance.txt.j2",
        "deploy/pressgate.example.toml",
    ):
        assert (Path(root) / relative).is_file(), relative
    assert head, "no migration found in the installed package"


class Operator:
    """Runs the installed `pressgate` in its own folder with an operator's environment."""

    def __init__(self, bin_dir: Path, home: Path, port: int) -> None:
        self.bin, self.home, self.port = bin_dir, home, port
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "PRESSGATE_SECRET_KEY": SECRET,
            "PRESSGATE_SANDBOX": "1",
            "PRESSGATE_PORT": str(port),
            "PRESSGATE_DISPATCH_INTERVAL": "0.5",
        }

    def __call__(self, *args: str) -> str:
        result = _run([str(self.bin / "pressgate"), *args], cwd=self.home, env=self.env)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def serve(self) -> "subprocess.Popen[str]":
        return subprocess.Popen(
            [str(self.bin / "pressgate"), "run"],
            cwd=self.home,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def get(self, path: str) -> dict[str, object]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as answer:
            document: dict[str, object] = json.load(answer)
            return document


def wait_for(what: str, check: Callable[[], bool], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def test_an_installed_wheel_drafts_approves_publishes_and_serves_readyz(
    installed: Path, tmp_path: Path
) -> None:
    op = Operator(installed, tmp_path, free_port())
    op("init", "--example")
    assert (tmp_path / "pressgate.toml").is_file()
    # A few seconds ahead, so it falls due while `run` is up (times may carry seconds).
    at = (datetime.now(UTC) + timedelta(seconds=15)).isoformat(timespec="seconds")
    drafted = json.loads(
        op(
            "draft",
            "--as",
            "alice@example.org",
            "--account",
            "@DeptHelp",
            "--text",
            "Self Assessment returns are due on 31 January",
            "--at",
            at,
            "--submit",
            "--json",
        )
    )
    post_id = str(drafted["id"])
    op("approve", post_id, "--as", "bob@example.org")  # @DeptHelp needs one approval
    server = op.serve()
    try:
        wait_for("/readyz", lambda: op.get("/readyz")["status"] == "ok")
        ready = op.get("/readyz")
        assert ready["publisher"] == "sandbox"
        wait_for(
            "the post to be published",
            lambda: json.loads(op("show", post_id, "--json"))["state"] == "published",
        )
        shown = json.loads(op("show", post_id, "--json"))
        assert shown["sandbox"] is True
        url = f"http://127.0.0.1:{op.port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as answer:
            metrics = answer.read().decode()
        assert 'pressgate_posts{state="published"} 1.0' in metrics
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert "Traceback" not in output, output
    assert server.returncode == 0, output  # SIGTERM: a clean stop
    assert op("audit", "verify").startswith("audit log intact")
