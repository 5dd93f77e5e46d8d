"""How a `pressgate` process ends: what it wrote is whole and in the database file itself,
everything it printed reaches the pipe, and its exit status says how the command went. The
process spares itself Python's last garbage collection (a sixth of a short command's time),
so whatever only that collection would have closed must be closed by the command first."""

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.factories import EXAMPLE_CONFIG

PRESSGATE = str(Path(sys.executable).parent / "pressgate")
SECRET = "exit-test-secret-key-0123456789abcdefghijklmnop"


def _pressgate(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PRESSGATE, *args],
        cwd=cwd,
        env={
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": str(cwd),
            "PRESSGATE_SECRET_KEY": SECRET,
        },
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _office(tmp_path: Path) -> Path:
    office = tmp_path / "office"
    office.mkdir()
    shutil.copy(EXAMPLE_CONFIG, office / "pressgate.toml")
    done = _pressgate(office, "init")
    assert done.returncode == 0, done.stderr
    return office


def test_a_command_leaves_what_it_wrote_in_the_database_file_itself(tmp_path: Path) -> None:
    """SQLite keeps recent writes in a write-ahead log beside the file until the last
    connection closes; an operator copying `pressgate.db` alone (as backups of a quiet
    system often do) must find every committed post in it."""
    office = _office(tmp_path)
    done = _pressgate(
        office, "draft", "--as", "alice@example.org", "-a", "@DeptNews", "--text", "Open today."
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (office / "var").iterdir()) == ["pressgate.db"]
    copy = tmp_path / "copy.db"
    shutil.copy(office / "var" / "pressgate.db", copy)
    with sqlite3.connect(copy) as db:
        texts = [row[0] for row in db.execute("SELECT text FROM revisionpart")]
    assert texts == ["Open today."]


def test_everything_printed_reaches_the_pipe_and_the_exit_status_says_how_it_went(
    tmp_path: Path,
) -> None:
    thread = "\n---\n".join(f"Part {n} of our explainer, in its own words." for n in range(25))
    passed = _pressgate(tmp_path, "check", "--thread", "--json", stdin=thread)
    assert passed.returncode == 0, passed.stderr
    assert len(json.loads(passed.stdout)["parts"]) == 25  # the whole document, not a prefix

    blocked = _pressgate(tmp_path, "check", "Our words \u202ereversed")
    assert blocked.returncode == 1
    assert "block text.hidden_characters at 10-11" in blocked.stdout, blocked.stdout

    wrong = _pressgate(tmp_path, "check", "--file", str(tmp_path / "missing.txt"))
    assert wrong.returncode == 2
    assert wrong.stderr.startswith("error: ") and len(wrong.stderr.splitlines()) == 1
