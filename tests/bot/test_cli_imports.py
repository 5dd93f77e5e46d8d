"""The command line answers at once: it loads a library when a command needs it, not at start.

Importing the web stack, the X client or the database layer costs more than most commands
take; each is held out of the start of `pressgate` here, in a fresh interpreter, because an
import that creeps back in shows only as a slower command, never as a failure.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import EXAMPLE_CONFIG

# What no command may load just by starting (the web stack, the X client, the scheduler).
NEVER_AT_START = ("fastapi", "starlette", "uvicorn", "tweepy", "apscheduler", "slack_sdk")
# The database layer: loaded by the commands that read or write the database, not before.
DATABASE_LAYER = ("sqlalchemy", "sqlmodel", "alembic", "psycopg")
# Settings and validation: read when a command runs, so help answers without them.
SETTINGS_LAYER = ("pydantic", "pydantic_settings", "pydantic_core")


def _loaded_after(code: str, cwd: Path, *args: str, env: dict[str, str] | None = None) -> set[str]:
    """The top-level packages loaded once `code` has run in a fresh interpreter."""
    return {m.split(".")[0] for m in _modules_after(code, cwd, *args, env=env)}


def _modules_after(code: str, cwd: Path, *args: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules loaded once `code` has run in a fresh interpreter."""
    script = (
        "import sys\n"
        f"sys.argv = ['pressgate', *{list(args)!r}]\n"
        f"{code}\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(cwd), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split("\n")[-2].split())


def test_importing_the_command_line_loads_no_web_x_client_or_database(tmp_path: Path) -> None:
    loaded = _loaded_after("import bot.cli.main", tmp_path)
    assert loaded.isdisjoint(NEVER_AT_START + DATABASE_LAYER), sorted(
        loaded & set(NEVER_AT_START + DATABASE_LAYER)
    )


def _main_exiting(*codes: int | None) -> str:
    """`pressgate` run in-process, which must end with one of these exit statuses."""
    return (
        "from bot.cli.main import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as done:\n"
        f"    assert done.code in {codes!r}, done.code\n"
    )


@pytest.mark.parametrize(
    "args",
    [("--help",), ("check", "Our results are out at 09:00 #earnings"), ("queue", "--help")],
)
def test_help_and_a_check_outside_an_installation_load_no_database(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """With no database there is no map in force to read, so a check is text work only, by
    the default policy (no map's models are defined for it)."""
    modules = _modules_after(_main_exiting(0, None), tmp_path, *args)
    loaded = {m.split(".")[0] for m in modules}
    assert loaded.isdisjoint(NEVER_AT_START + DATABASE_LAYER), sorted(
        loaded & set(NEVER_AT_START + DATABASE_LAYER)
    )
    assert "approvals.config" not in modules


@pytest.mark.parametrize("args", [("--help",), ()])
def test_help_loads_neither_settings_nor_validation(tmp_path: Path, args: tuple[str, ...]) -> None:
    """pydantic and pydantic-settings take longer to load than the rest of `pressgate --help`
    together; the list of commands reads no setting, so they wait for a command to run (Typer
    itself loads pydantic to convert a command's arguments)."""
    loaded = _loaded_after(_main_exiting(0, 2), tmp_path, *args)
    assert loaded.isdisjoint(SETTINGS_LAYER), sorted(loaded & set(SETTINGS_LAYER))


def test_a_check_inside_an_installation_reads_the_map_in_force_without_the_database_layer(
    tmp_path: Path, database_url: str
) -> None:
    """The map in force is read with sqlite3 or psycopg alone (psycopg only for PostgreSQL).
    The config file is removed after `init`, so only the map in force can block "guaranteed":
    the exit status shows it was read."""
    config = tmp_path / "pressgate.toml"
    config.write_text(EXAMPLE_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    env = {"PRESSGATE_DATABASE_URL": database_url}
    subprocess.run(
        [str(Path(sys.executable).parent / "pressgate"), "init"],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": str(tmp_path),
            "PRESSGATE_SECRET_KEY": "imports-test-secret-0123456789abcdefghijklmnop",
            **env,
        },
        capture_output=True,
        check=True,
        timeout=120,
    )
    config.unlink()
    code = _main_exiting(1)
    modules = _modules_after(code, tmp_path, "check", "Results guaranteed today", env=env)
    loaded = {m.split(".")[0] for m in modules}
    driver = {"psycopg"} if database_url.startswith("postgresql") else set()
    unexpected = loaded & (set(NEVER_AT_START + DATABASE_LAYER) - driver)
    assert not unexpected, sorted(unexpected)
    # Only the map's policy and personal handles are read: the rest of its models (a quarter
    # of what pressgate itself spends on a check) are not defined.
    assert "approvals.config" not in modules


def test_a_check_with_nothing_to_colour_prints_without_rich(tmp_path: Path) -> None:
    """rich (for colours and tables) takes a tenth of a check to load; a text with no finding
    is printed plainly, and a finding still gets its colour."""
    clean = _loaded_after(_main_exiting(0), tmp_path, "check", "Our results are out at 09:00")
    assert "rich" not in clean
    blocked = _loaded_after(_main_exiting(1), tmp_path, "check", "a" * 300)
    assert "rich" in blocked


def test_help_for_a_command_reads_no_settings(tmp_path: Path) -> None:
    """Typer loads pydantic to describe a command's options, but the settings (and
    pydantic-settings) wait for the command to run."""
    loaded = _loaded_after(_main_exiting(0), tmp_path, "check", "--help")
    assert "pydantic_settings" not in loaded
