"""CLI and web fixtures: the real `pressgate` command run in-process against a fresh,
migrated database of each kind, with a frozen clock so times are predictable."""

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel
from typer.testing import CliRunner, Result

from approvals.clock import FrozenClock
from approvals.db import make_engine
from bot.cli.common import App
from bot.cli.main import app as cli_app
from bot.settings import Settings
from bot.web.app import create_app
from tests.bot.publishing_world import World, connect_account, publishing_config, x_settings
from tests.conftest import NOW, drop_schema
from tests.factories import AUDIT_KEY, EXAMPLE_CONFIG, load_org
from tests.fakes.fake_x import FakeX


@dataclass
class Cli:
    """Runs `pressgate …` in-process as a user would type it."""

    settings: Settings
    clock: FrozenClock
    runner: CliRunner

    def __call__(self, *args: str, input: str | None = None) -> Result:
        app = App.of(self.settings, self.clock)
        try:
            return self.runner.invoke(cli_app, list(args), obj=app, input=input)
        finally:
            if "engine" in app.__dict__:
                app.engine.dispose()

    def ok(self, *args: str, input: str | None = None) -> Result:
        result = self(*args, input=input)
        assert result.exit_code == 0, f"{args}: {result.stderr or result.stdout}"
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json").stdout)

    @property
    def engine(self) -> Engine:
        """An engine as the CLI builds it (the caller disposes of it)."""
        return make_engine(self.settings.database_url, audit_keys=self.settings.audit_keyring())


def _empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/pressgate.db"
    url: str = request.getfixturevalue("postgres_server_url")
    engine = make_engine(url)
    drop_schema(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no tables) of each kind, for commands that migrate it themselves."""
    return _empty_database(request, tmp_path)


def make_cli(database_url: str, tmp_path: Path, **overrides: Any) -> Cli:
    """`pressgate` on `database_url` with the example map's file, not yet initialised."""
    config = tmp_path / "pressgate.toml"
    if not config.exists():
        config.write_text(EXAMPLE_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    values: dict[str, Any] = {
        "database_url": database_url,
        "config": config,
        "audit_key": AUDIT_KEY,
        "audit_anchor_file": tmp_path / "audit-anchors.jsonl",
        **overrides,
    }
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    return Cli(settings=settings, clock=FrozenClock(NOW), runner=CliRunner())


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Iterator[Cli]:
    """`pressgate` initialised with the example press office's map."""
    command = make_cli(database_url, tmp_path)
    command.ok("init")
    yield command


@pytest.fixture(autouse=True)
def _no_pressgate_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the settings they build, never the developer's environment."""
    for key in list(os.environ):
        if key.startswith("PRESSGATE_") and key != "PRESSGATE_TEST_POSTGRES_URL":
            monkeypatch.delenv(key)


@pytest.fixture
def clock() -> FrozenClock:
    """Frozen, but at the real time: the fake X stamps rate-limit resets from the wall clock."""
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def world(session: Session, engine: Engine, clock: FrozenClock) -> Iterator[World]:
    org = load_org(session, clock, publishing_config())
    with FakeX(clock=clock.now) as fake:
        users = {name: fake.add_user(name) for name in ("DeptNews", "DeptHelp")}
        for name, user in users.items():
            connect_account(engine, clock, f"@{name}", user)
        yield World(org=org, engine=engine, fake=fake, settings=x_settings(fake), users=users)
    assert not fake.server_errors, fake.server_errors


@pytest.fixture
def client(cli: Cli) -> Iterator[TestClient]:
    """The web app over the `cli` fixture's initialised database."""
    with TestClient(create_app(cli.settings)) as client:
        yield client


def every_row(cli: Cli) -> dict[str, list[tuple[Any, ...]]]:
    """The whole database, to show that a request changed nothing."""
    engine = cli.engine
    try:
        with engine.connect() as conn:
            return {
                table.name: sorted(conn.execute(table.select()).all(), key=repr)
                for table in SQLModel.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def free_port() -> int:
    """A port nothing listens on, for a server a test starts for real."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def assert_one_line_error(result: Any, exit_code: int, *words: str) -> str:
    """A failed command as users must see it: its exit status, exactly one line on standard
    error naming the problem (`words`), and no traceback anywhere. Takes a CliRunner result
    or a finished subprocess; returns the line."""
    code = result.exit_code if hasattr(result, "exit_code") else result.returncode
    out, err = result.stdout or "", result.stderr or ""
    assert "Traceback" not in out + err, err
    assert code == exit_code, (code, out, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def pressgate_process(
    args: list[str | bytes], env: dict[str, str], **kwargs: Any
) -> "subprocess.CompletedProcess[str]":
    """The installed `pressgate` run as a user runs it, with only the environment given."""
    script = Path(sys.executable).parent / "pressgate"
    base = {"PATH": "/usr/bin:/bin", "HOME": env.get("HOME", "/nonexistent"), "LANG": "C.UTF-8"}
    return subprocess.run(
        [str(script), *args],
        env=base | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        **kwargs,
    )
