"""The command line answers at once: it loads a library when a command needs it, not at start.

Importing the web stack, the X client or the database layer costs more than most commands
take; each is held out of the start of `pressgate` here, in a fresh interpreter, because an
import that creeps back in shows only as a slower command, never as a failure.
"""

import subprocess
import sys
from pathlib import Path

import pytest

# What no command may load just by starting (the web stack, the X client, the scheduler).
NEVER_AT_START = ("fastapi", "starlette", "uvicorn", "tweepy", "apscheduler", "slack_sdk")
# The database layer: loaded by the commands that read or write the database, not before.
DATABASE_LAYER = ("sqlalchemy", "sqlmodel", "alembic", "psycopg")


def _loaded_after(code: str, cwd: Path, *args: str) -> set[str]:
    """The top-level packages loaded once `code` has run in a fresh interpreter."""
    script = (
        "import sys\n"
        f"sys.argv = ['pressgate', *{list(args)!r}]\n"
        f"{code}\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(cwd)},
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


@pytest.mark.parametrize(
    "args",
    [("--help",), ("check", "Our results are out at 09:00 #earnings"), ("queue", "--help")],
)
def test_help_and_a_check_outside_an_installation_load_no_database(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """With no database there is no map in force to read, so a check is text work only."""
    code = (
        "from bot.cli.main import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as done:\n"
        "    assert done.code in (0, None), done.code\n"
    )
    loaded = _loaded_after(code, tmp_path, *args)
    assert loaded.isdisjoint(NEVER_AT_START + DATABASE_LAYER), sorted(
        loaded & set(NEVER_AT_START + DATABASE_LAYER)
    )
