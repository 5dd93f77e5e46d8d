"""`pressgate run` starts only when it is safe: a real secret key (at least 32 characters, no
placeholder, not one character repeated; PRESSGATE_DEMO cannot lift that), and X app
credentials for the publisher unless the sandbox is asked for by name, which it then says at
start, in /readyz and on every post it publishes. Commands that sign, encrypt or run need
the key; the rest work without one."""

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import SecretStr

from approvals.clock import FrozenClock
from bot.settings import Settings
from tests.bot.conftest import Cli, assert_one_line_error, every_row, free_port
from tests.bot.publishing_world import SECRET
from tests.factories import AUDIT_KEY

WEAK_KEYS = [
    "",
    "changeme",
    "change-me",
    "secret",
    "password",
    "test",
    "example",
    "xxxxxxxx",
    "your-secret-key",
    "YOUR_SECRET_KEY_GOES_HERE_CHANGE_ME_PLEASE",  # long, but only placeholder words
    "x" * 64,  # long, but one character repeated
    "ab" * 20,
    "Qe7-rT9_pL2",  # random, but short
]


@pytest.mark.parametrize("key", WEAK_KEYS)
def test_run_refuses_a_weak_secret_key_and_says_how_to_make_one(cli: Cli, key: str) -> None:
    cli.settings = cli.settings.model_copy(update={"secret_key": SecretStr(key), "sandbox": True})
    before = every_row(cli)
    for args in (["run"], ["run", "--web-only"], ["run", "--worker-only"]):
        assert_one_line_error(
            cli(*args), 2, "PRESSGATE_SECRET_KEY", "at least 32 characters", "token_urlsafe"
        )
    assert every_row(cli) == before


def test_pressgate_demo_in_the_environment_does_not_lift_the_check(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRESSGATE_DEMO", "1")
    monkeypatch.setenv("PRESSGATE_SECRET_KEY", "changeme")
    monkeypatch.setenv("PRESSGATE_SANDBOX", "1")
    monkeypatch.setenv("PRESSGATE_DATABASE_URL", cli.settings.database_url)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.sandbox and not settings.demo
    cli.settings = settings
    assert_one_line_error(cli("run"), 2, "PRESSGATE_SECRET_KEY is a placeholder")


def test_accounts_connect_refuses_a_weak_secret_key_before_reading_tokens(cli: Cli) -> None:
    cli.settings = cli.settings.model_copy(update={"secret_key": SecretStr("changeme" * 5)})
    before = every_row(cli)
    result = cli(
        "accounts", "connect", "@DeptNews", "--as", "dana@example.org", "--tokens-from", "-"
    )
    assert_one_line_error(result, 2, "PRESSGATE_SECRET_KEY is a placeholder")
    assert every_row(cli) == before


def test_commands_that_sign_nothing_need_no_secret_key(cli: Cli) -> None:
    assert cli.settings.secret_is_placeholder
    post = cli.json("draft", "--as", "alice@example.org", "-a", "@DeptHelp", "--text", "Hi")
    cli.ok("submit", str(post["id"]), "--as", "alice@example.org")
    cli.ok("approve", str(post["id"]), "--as", "hana@example.org")
    cli.ok("audit", "verify")
    cli.ok("pause", "--all", "--as", "sam@example.org")


@pytest.mark.parametrize("args", [["run"], ["run", "--worker-only"]])
def test_run_without_x_credentials_refuses_to_start_the_publisher(
    cli: Cli, args: list[str]
) -> None:
    cli.settings = cli.settings.model_copy(update={"secret_key": SecretStr(SECRET)})
    before = every_row(cli)
    assert_one_line_error(
        cli(*args), 1, "no X app credentials", "PRESSGATE_X_CONSUMER_KEY", "PRESSGATE_SANDBOX=1"
    )
    assert every_row(cli) == before


def _serve(cli: Cli, args: list[str], **env: str) -> tuple[subprocess.Popen[str], str]:
    """`pressgate run ...` as a real process on a free port; returns it once /readyz answers."""
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "pressgate"), *args, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "PRESSGATE_DATABASE_URL": cli.settings.database_url,
            "PRESSGATE_CONFIG": str(cli.settings.config),
            "PRESSGATE_SECRET_KEY": SECRET,
            "PRESSGATE_AUDIT_KEY": AUDIT_KEY,  # the key the `cli` fixture's log is sealed with
            "PRESSGATE_AUDIT_ANCHOR_FILE": str(cli.settings.audit_anchor_file),
            "PRESSGATE_DISPATCH_INTERVAL": "0.2",
            **env,
        },
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, process.communicate()[1]
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            return process, base
        except httpx.TransportError:
            assert time.monotonic() < deadline, "pressgate run did not start in 30 s"
            time.sleep(0.1)


def _stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    return process.communicate(timeout=15)[1]


def test_run_web_only_needs_no_x_credentials_and_readyz_says_nothing_publishes(
    cli: Cli,
) -> None:
    process, base = _serve(cli, ["run", "--web-only"])
    try:
        ready = httpx.get(f"{base}/readyz").json()
    finally:
        _stop(process)
    assert ready["status"] == "ok" and ready["publisher"] == "none"


def test_the_sandbox_asked_for_says_so_at_start_in_readyz_and_on_every_post(cli: Cli) -> None:
    real_now = datetime.now(UTC).replace(second=0, microsecond=0)
    cli.clock = FrozenClock(real_now - timedelta(minutes=10))
    due = (real_now - timedelta(minutes=5)).astimezone(ZoneInfo("Europe/London"))
    post = cli.json(
        "draft",
        *("--as", "alice@example.org", "-a", "@DeptHelp", "--text", "Sandbox, on purpose"),
        *("--at", due.strftime("%Y-%m-%d %H:%M"), "--submit"),
    )
    cli.ok("approve", str(post["id"]), "--as", "hana@example.org")

    process, base = _serve(cli, ["run"], PRESSGATE_SANDBOX="1")
    try:
        assert httpx.get(f"{base}/readyz").json()["publisher"] == "sandbox"
        deadline = time.monotonic() + 20
        while (shown := cli.json("show", str(post["id"])))["state"] != "published":
            assert time.monotonic() < deadline, shown
            time.sleep(0.2)
    finally:
        stderr = _stop(process)
    # Not a terminal: one JSON object a line (bot/logs.py).
    logged = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    [warning] = [line for line in logged if str(line["event"]).startswith("sandbox publisher")]
    assert warning["level"] == "warning" and warning["logger"] == "pressgate.worker"
    assert "nothing is sent to X" in str(warning["event"])
    assert shown["sandbox"] is True
    assert "SANDBOX: published by the sandbox publisher; it is not on X" in (
        cli.ok("show", str(post["id"])).stdout
    )
    listed = cli.ok("queue", "--state", "published").stdout
    assert "(SANDBOX)" in listed  # the state column, wrapped to the terminal width
    assert json.loads(cli.ok("audit", "verify", "--json").stdout)["ok"]
