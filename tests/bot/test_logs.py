"""Logs: JSON lines in production, readable in a terminal, ids on each line, no secrets, and
an idle `pressgate run` that says nothing after it has started."""

import io
import json
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.logs import configure_logging, secrets_of
from bot.web.app import create_app
from tests.bot.conftest import Cli, free_port, pressgate_process
from tests.bot.publishing_world import SECRET, World
from tests.bot.worker_processes import wait_until
from tests.factories import AUDIT_KEY


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Logging as `pressgate run` sets it up in production, into a buffer; put back after."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    out = io.StringIO()
    configure_logging("INFO", "json", secrets=[SECRET, AUDIT_KEY], stream=out)
    yield out
    root.handlers[:] = handlers
    root.setLevel(level)


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_publishing_worker_logs_json_lines_that_carry_the_post_id(
    world: World, json_log: io.StringIO
) -> None:
    post = world.approved("Rate limited")
    world.fake.fail_next("POST", "/2/tweets", "429", reset_in=1)
    world.clock.advance(timedelta(minutes=1))
    world.run()
    retry = [line for line in lines(json_log) if "retry at" in str(line["event"])]
    assert retry, json_log.getvalue()
    assert retry[0]["post_id"] == post.id and retry[0]["account"] == "@DeptHelp"
    assert retry[0]["level"] == "info" and retry[0]["logger"] == "pressgate.dispatcher"
    assert "timestamp" in retry[0]


def test_a_traceback_read_in_a_terminal_is_redacted_too() -> None:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    out = io.StringIO()
    configure_logging("INFO", "console", secrets=[SECRET], stream=out)
    try:
        try:
            raise ValueError(f"bad key {SECRET}")
        except ValueError:
            logging.getLogger("pressgate.test").exception("failed with %s", SECRET)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    text = out.getvalue()
    assert "ValueError: bad key [redacted]" in text and SECRET not in text
    assert not text.lstrip().startswith("{")


def test_secrets_are_redacted_wherever_they_appear(json_log: io.StringIO) -> None:
    log = logging.getLogger("pressgate.test")
    log.warning("could not use key %s", SECRET)
    log.info("a call", extra={"access_token": "abcdefgh-1234", "account": "@DeptNews"})
    log.info("GET /a/eyJwb3N0IjoxfQ.signature HTTP/1.1")
    try:
        raise ValueError(f"bad audit key {AUDIT_KEY}")
    except ValueError:
        log.exception("failed")
    text = json_log.getvalue()
    for secret in (SECRET, AUDIT_KEY, "abcdefgh-1234", "eyJwb3N0IjoxfQ"):
        assert secret not in text
    first, second, third, fourth = lines(json_log)
    assert first["event"] == "could not use key [redacted]"
    assert second["access_token"] == "[redacted]" and second["account"] == "@DeptNews"
    assert third["event"] == "GET /a/[redacted] HTTP/1.1"
    assert "ValueError" in str(fourth["exception"])


def test_every_secret_setting_is_known_to_the_redactor(cli: Cli) -> None:
    settings = cli.settings.model_copy(
        update={"slack_bot_token": cli.settings.audit_key, "metrics_token": None}
    )
    assert settings.audit_key is not None
    assert secrets_of(settings).count(settings.audit_key.get_secret_value()) == 2


def test_each_web_answer_carries_a_request_id(cli: Cli) -> None:
    with TestClient(create_app(cli.settings)) as client:
        fresh = client.get("/healthz").headers["x-request-id"]
        again = client.get("/healthz").headers["x-request-id"]
        kept = client.get("/healthz", headers={"X-Request-ID": "proxy-42.a"})
        forged = client.get("/healthz", headers={"X-Request-ID": "a b;<script>" * 10})
    assert len(fresh) == 32 and fresh != again
    assert kept.headers["x-request-id"] == "proxy-42.a"
    assert len(forged.headers["x-request-id"]) == 32


def _worker_output(
    tmp_path: Path,
    level: str,
    seconds: float,
    args: tuple[str, ...] = ("run", "--worker-only"),
    meanwhile: Callable[[], None] = lambda: None,
    **env: str,
) -> str:
    """`pressgate run --worker-only` (or `args`) left alone for `seconds` (but for what
    `meanwhile` does), then stopped by SIGTERM."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    base = {
        "HOME": str(tmp_path),
        "PRESSGATE_SECRET_KEY": SECRET,
        "PRESSGATE_SANDBOX": "1",
        "PRESSGATE_LOG_LEVEL": level,
        "PRESSGATE_DISPATCH_INTERVAL": "0.2",
        "PRESSGATE_REMIND_INTERVAL": "0.3",
        **env,
    }
    init = pressgate_process(["init", "--example"], base, cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    script = Path(sys.executable).parent / "pressgate"
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(script), *args],
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"} | base,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: "started (beat every" in log.read_text(), timeout=60, what="start")
        meanwhile()
        time.sleep(seconds)  # idleness is what is tested: nothing to advance, only to wait out
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    output = log.read_text()
    assert process.returncode == 0, output
    return output


def test_an_idle_worker_is_quiet_at_info_and_its_beats_show_at_debug(tmp_path: Path) -> None:
    quiet = _worker_output(tmp_path / "info", "INFO", 3, PRESSGATE_LOG_FORMAT="json")
    logged = [json.loads(line) for line in quiet.splitlines() if line.startswith("{")]
    events = [str(line["event"]) for line in logged]
    assert not any("executed" in e or "Running job" in e for e in events), events
    assert len(logged) <= 6, events  # start-up only, though some 25 beats ran
    assert any(e.startswith("worker ") and e.endswith("started (beat every 0.2s)") for e in events)

    chatty = _worker_output(tmp_path / "debug", "DEBUG", 2, PRESSGATE_LOG_FORMAT="json")
    beats = [
        json.loads(line)
        for line in chatty.splitlines()
        if line.startswith("{") and "executed successfully" in line
    ]
    assert len(beats) >= 3 and {b["level"] for b in beats} == {"debug"}


def test_in_a_terminal_format_lines_are_readable_not_json(tmp_path: Path) -> None:
    output = _worker_output(tmp_path, "INFO", 1, PRESSGATE_LOG_FORMAT="console")
    started = [line for line in output.splitlines() if "started (beat every" in line]
    assert started and not started[0].startswith("{")
    assert "[info" in started[0]


def test_probes_are_not_logged_but_requests_are_with_their_request_id(tmp_path: Path) -> None:
    port = free_port()

    def probe() -> None:
        wait_until(lambda: _answers(port), timeout=60, what="serving")
        for path in ("/healthz", "/readyz", "/readyz", "/healthz"):
            httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5)
        httpx.get(f"http://127.0.0.1:{port}/signin", headers={"X-Request-ID": "trace-7"})

    output = _worker_output(
        tmp_path, "INFO", 0.5, ("run", "--port", str(port)), probe, PRESSGATE_LOG_FORMAT="json"
    )
    logged = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    access = [line for line in logged if line["logger"] == "uvicorn.access"]
    assert not [a for a in access if "/readyz" in str(a["event"]) or "/healthz" in str(a["event"])]
    [signin] = [a for a in access if "/signin" in str(a["event"])]
    assert signin["request_id"] == "trace-7"


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
