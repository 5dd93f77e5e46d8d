"""Health endpoints, and `pressgate demo` (what `make run` starts) serving them for real."""

import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from approvals.db import make_engine
from approvals.migrate import upgrade
from bot.settings import Settings
from bot.web.app import create_app
from tests.bot.conftest import free_port


def test_healthz_answers_even_before_the_database_is_migrated(database_url: str) -> None:
    client = TestClient(create_app(Settings(database_url=database_url)))
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_is_unavailable_until_the_schema_is_migrated(database_url: str) -> None:
    client = TestClient(create_app(Settings(database_url=database_url)))
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["reason"] == "database not migrated"

    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()

    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ok"


def test_health_endpoints_change_nothing_on_post(database_url: str) -> None:
    client = TestClient(create_app(Settings(database_url=database_url)))
    assert client.post("/healthz").status_code == 405


def test_pressgate_demo_seeds_an_sqlite_database_and_serves(tmp_path: Path) -> None:
    port = free_port()
    script = Path(sys.executable).parent / "pressgate"
    process = subprocess.Popen(
        [str(script), "demo", "--data-dir", str(tmp_path / "demo"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[1]
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "pressgate demo did not start in 30 s"
                time.sleep(0.2)
        assert ready.status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
        assert (tmp_path / "demo" / "pressgate.db").exists()
        assert (tmp_path / "demo" / "pressgate.toml").exists()
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert "demo data: 4 posts created" in stderr
