"""What pressgate writes to disk (the SQLite database and its -wal and -shm, the example
config, audit exports) is readable by its owner only, in directories only the owner can
enter, whatever the umask of the shell that ran it."""

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from approvals.clock import FrozenClock
from bot.settings import Settings
from tests.bot.conftest import Cli
from tests.bot.publishing_world import SECRET
from tests.conftest import NOW


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The shell's umask lets everyone read what is created, as many systems' default does."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_init_creates_the_database_and_example_config_for_the_owner_only(
    tmp_path: Path, open_umask: None
) -> None:
    database = tmp_path / "data" / "db" / "pressgate.db"
    config = tmp_path / "etc" / "pressgate" / "pressgate.toml"
    settings = Settings(
        database_url=f"sqlite:///{database}",
        config=config,
        secret_key=SECRET,
        _env_file=None,  # type: ignore[call-arg]
    )
    cli = Cli(settings=settings, clock=FrozenClock(NOW), runner=CliRunner())
    cli.ok("init", "--example")

    for made in (database, config):
        assert _mode(made) == 0o600, made
    for directory in (database.parent, database.parent.parent, config.parent, config.parent.parent):
        assert _mode(directory) == 0o700, directory
    assert os.umask(0o022) == 0o022, "the command left its umask behind"

    # SQLite gives its -wal and -shm the database file's mode, whoever opens it next.
    reader = sqlite3.connect(database)
    try:
        reader.execute("SELECT count(*) FROM post").fetchone()
        for suffix in ("-wal", "-shm"):
            side = database.with_name(database.name + suffix)
            assert _mode(side) == 0o600, side
    finally:
        reader.close()


def test_an_audit_export_is_for_the_owner_only_and_complete(
    cli: Cli, tmp_path: Path, open_umask: None
) -> None:
    out = tmp_path / "audit.jsonl"
    cli.ok("audit", "export", "-o", str(out))
    assert _mode(out) == 0o600
    assert out.read_text(encoding="utf-8") == cli.ok("audit", "export").stdout
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_an_export_replacing_an_older_one_is_private_too(
    cli: Cli, tmp_path: Path, open_umask: None
) -> None:
    out = tmp_path / "audit.jsonl"
    out.write_text("old\n")
    out.chmod(0o644)
    cli.ok("audit", "export", "-o", str(out))
    assert _mode(out) == 0o600
    assert out.read_text(encoding="utf-8") != "old\n"
