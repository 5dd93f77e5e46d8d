"""Whatever goes wrong, a command ends with one line saying what to do and an exit status
(1 refused, 2 bad input or configuration, 3 a bug), never a traceback, and changes nothing:
out-of-range ids, bytes that are not UTF-8, a bad or unreachable database, one that is not
migrated, not a database, missing or busy, a bad export target or revision, a config too
deep to parse."""

import logging
import sqlite3
import time
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import inspect
from typer.testing import CliRunner

from approvals.clock import FrozenClock
from approvals.db import make_engine
from bot.settings import Settings
from tests.bot.conftest import (
    Cli,
    assert_one_line_error,
    every_row,
    free_port,
    pressgate_process,
)
from tests.bot.publishing_world import SECRET
from tests.conftest import NOW

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
DRAFT = ["draft", "--as", "alice@example.org", "-a", "@DeptNews", "--text", "Hello"]


def _elsewhere(cli: Cli, database_url: str) -> Cli:
    """The same command line pointed at another database."""
    settings = cli.settings.model_copy(update={"database_url": database_url})
    return Cli(settings=settings, clock=FrozenClock(NOW), runner=CliRunner())


@pytest.mark.parametrize("post_id", ["9223372036854775808", "2147483648", "0", "-1", "abc"])
@pytest.mark.parametrize(
    "command",
    [
        ["show"],
        ["approve", "--as", "bob@example.org"],
        ["takedown", "--as", "sam@example.org", "--reason", "wrong"],
    ],
)
def test_a_post_id_the_database_cannot_hold_is_refused_before_any_query(
    cli: Cli, command: list[str], post_id: str
) -> None:
    cli.ok(*DRAFT)
    before = every_row(cli)
    result = cli(*command, "--", post_id)
    assert_one_line_error(result, 2, f"'{post_id}' is not a post id", "from 1 to 2147483647")
    assert every_row(cli) == before


def test_the_largest_post_id_is_simply_not_found(cli: Cli) -> None:
    assert_one_line_error(cli("show", "2147483647"), 2, "post 2147483647 does not exist")


@pytest.mark.parametrize(
    ("args", "option"),
    [
        ([*DRAFT[:-1], b"caf\xe9 \xff"], "--text"),
        (["draft", "--as", b"al\xffce@example.org", *DRAFT[3:]], "--as"),
        (["draft", b"--as=al\xffce@example.org", *DRAFT[3:]], "--as"),
        (["check", b"\xfe\xff"], "argument 2"),
    ],
)
def test_arguments_that_are_not_utf8_are_refused_naming_the_option(
    cli: Cli, args: list[str | bytes], option: str
) -> None:
    before = every_row(cli)
    env = {
        "PRESSGATE_DATABASE_URL": cli.settings.database_url,
        "PRESSGATE_CONFIG": str(cli.settings.config),
    }
    result = pressgate_process(args, env)
    assert_one_line_error(result, 2, f"{option} is not valid UTF-8", "encoding")
    assert every_row(cli) == before


def test_the_same_bytes_in_process_are_refused_the_same_way(cli: Cli) -> None:
    """Python hands undecodable argv bytes over as lone surrogates; so does this test."""
    before = every_row(cli)
    result = cli("draft", "--as", "al\udcffce@example.org", *DRAFT[3:])
    assert_one_line_error(result, 2, "--as is not valid UTF-8")
    assert every_row(cli) == before


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "mysql://pressgate@localhost/pressgate",
        "postgresql+nodriver://db.example/pressgate",
        "postgresql+psycopg://pressgate@db.example:notaport/pressgate",
    ],
)
@pytest.mark.parametrize("command", [["queue"], ["check", "Hello"]])
def test_a_database_url_pressgate_cannot_use_is_one_line(
    cli: Cli, url: str, command: list[str]
) -> None:
    before = every_row(cli)
    result = _elsewhere(cli, url)(*command)
    assert_one_line_error(result, 2, "PRESSGATE_DATABASE_URL is not a database URL", "sqlite:///")
    assert every_row(cli) == before


def test_an_unreachable_postgresql_names_host_and_port_and_never_the_password() -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql+psycopg://pressgate:Hunter2-Secret@127.0.0.1:{port}/pressgate"
    command = Cli(
        settings=Settings(database_url=url, _env_file=None),  # type: ignore[call-arg]
        clock=FrozenClock(NOW),
        runner=CliRunner(),
    )
    for args in (["queue"], DRAFT, ["db", "upgrade"], ["check", "Hello"]):
        result = command(*args)
        line = assert_one_line_error(result, 2, f"PostgreSQL at 127.0.0.1:{port} is down")
        assert "PRESSGATE_DATABASE_URL" in line
        assert "Hunter2-Secret" not in result.stdout + result.stderr


def test_a_database_not_yet_migrated_says_to_run_init(database_url: str, tmp_path: Path) -> None:
    """An existing but empty database (a new PostgreSQL database, an empty SQLite file)."""
    engine = make_engine(database_url)
    with engine.connect():  # SQLite: the empty file exists, as `createdb` makes one on PG
        pass
    command = Cli(
        settings=Settings(database_url=database_url, secret_key=SECRET, _env_file=None),  # type: ignore[call-arg]
        clock=FrozenClock(NOW),
        runner=CliRunner(),
    )
    for args in (["queue"], ["show", "1"], DRAFT, ["audit", "verify"], ["templates", "list"]):
        result = command(*args)
        assert_one_line_error(result, 2, "not set up", "`pressgate init`", "pressgate db upgrade")
    assert inspect(engine).get_table_names() == [], "a failed command created tables"
    engine.dispose()


@SQLITE_ONLY
def test_a_file_that_is_not_a_database_is_named_and_left_alone(cli: Cli, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping: milk, eggs\n")
    for args in (["queue"], ["check", "Hello"]):
        result = _elsewhere(cli, f"sqlite:///{notes}")(*args)
        line = f"{notes} is not a SQLite database"
        assert_one_line_error(result, 2, line, "PRESSGATE_DATABASE_URL")
    assert notes.read_text() == "shopping: milk, eggs\n"


@SQLITE_ONLY
@pytest.mark.parametrize(
    "args",
    [["queue"], DRAFT, ["db", "upgrade"], ["audit", "verify"], ["map", "apply", "--as", "x@y.z"]],
)
def test_a_mistyped_sqlite_path_is_refused_not_created(
    cli: Cli, tmp_path: Path, args: list[str]
) -> None:
    typo = tmp_path / "prssgate" / "pressgate.db"
    result = _elsewhere(cli, f"sqlite:///{typo}")(*args)
    assert_one_line_error(result, 2, f"no database at {typo}", "`pressgate init`")
    assert not typo.parent.exists(), "the command created the mistyped path"


@SQLITE_ONLY
def test_run_does_not_create_a_database_either(cli: Cli, tmp_path: Path) -> None:
    typo = tmp_path / "prssgate.db"
    command = _elsewhere(cli, f"sqlite:///{typo}")
    command.settings = command.settings.model_copy(
        update={"secret_key": SecretStr(SECRET), "sandbox": True}
    )
    assert_one_line_error(command("run"), 2, f"no database at {typo}")
    assert not typo.exists()


def test_audit_export_to_a_directory_leaves_no_file_at_all(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "exports"
    target.mkdir()
    before, rows = sorted(tmp_path.rglob("*")), every_row(cli)
    result = cli("audit", "export", "-o", str(target))
    assert_one_line_error(result, 2, f"{target} is a directory", "name a file")
    result = cli("audit", "export", "-o", str(tmp_path / "no-such-dir" / "audit.jsonl"))
    assert_one_line_error(result, 2, "no-such-dir: No such directory")
    assert sorted(tmp_path.rglob("*")) == before, "a partial export was left behind"
    assert every_row(cli) == rows


def test_db_upgrade_to_an_unknown_revision_lists_the_known_ones(cli: Cli) -> None:
    before = every_row(cli)
    result = cli("db", "upgrade", "--revision", "nope")
    assert_one_line_error(result, 2, "'nope'", "0001, 0002, 0003", "leave out --revision")
    assert every_row(cli) == before


def test_a_config_nested_too_deeply_is_a_config_error_naming_the_file(
    cli: Cli, tmp_path: Path
) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("accounts = " + "[" * 100_000 + "]" * 100_000 + "\n")
    before = every_row(cli)
    for args in (["map", "check", "-c", str(deep)], ["init", "-c", str(deep)]):
        assert_one_line_error(cli(*args), 2, f"{deep}: not valid TOML", "nested too deeply")
    assert every_row(cli) == before


@SQLITE_ONLY
def test_a_database_locked_past_its_timeout_is_busy_try_again(cli: Cli) -> None:
    before = every_row(cli)
    path = cli.settings.database_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process in the middle of a long write
    try:
        cli.settings = cli.settings.model_copy(update={"sqlite_busy_timeout": 0.5})
        started = time.monotonic()
        result = cli(*DRAFT)
        waited = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()
    assert_one_line_error(result, 1, "the database is busy", "0.5 s", "try again")
    assert 0.5 <= waited < 5
    assert every_row(cli) == before


def test_usage_errors_are_one_line_too(cli: Cli) -> None:
    assert_one_line_error(cli("show"), 2, "Missing argument 'POST_ID'")
    assert_one_line_error(cli("nonsense"), 2, "No such command 'nonsense'", "pressgate --help")
    assert_one_line_error(cli("draft", "--as"), 2, "--as", "requires an argument")


def test_an_unexpected_error_is_one_line_and_its_traceback_goes_to_the_debug_log(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug cannot be produced on demand, so one is planted in the listing the queue uses
    (where `queue` finds it when it runs: the command imports it then)."""

    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("token=abc123")

    monkeypatch.setattr("approvals.summary.list_posts", broken)
    caplog.set_level(logging.DEBUG, logger="pressgate.cli")
    result = cli("queue")
    line = assert_one_line_error(result, 3, "unexpected KeyError", "PRESSGATE_LOG_LEVEL=DEBUG")
    assert "abc123" not in line, "the message of an unknown error may hold anything"
    logged = [r for r in caplog.records if r.name == "pressgate.cli"]
    assert logged and logged[0].levelno == logging.DEBUG and logged[0].exc_info is not None
