"""The settings every command reads from the environment: a wrong one is named on one line
with exit status 2 before the command does anything, and help answers even then (it reads
no setting), so an operator can still look up what to fix."""

import subprocess
import sys
from pathlib import Path

import pytest

PRESSGATE = str(Path(sys.executable).parent / "pressgate")
WRONG = {"PRESSGATE_SQLITE_BUSY_TIMEOUT": "-1"}


def _pressgate(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PRESSGATE, *args],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(cwd), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("args", [("check", "Hello"), ("queue",), ("init",)])
def test_a_wrong_setting_is_named_on_one_line_and_nothing_is_done(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    done = _pressgate(tmp_path, *args, env=WRONG)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: PRESSGATE_SQLITE_BUSY_TIMEOUT: Input should be greater than 0"
    ]
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == []  # `init` made no database, no directory


@pytest.mark.parametrize("args", [("--help",), ("check", "--help"), ("db", "upgrade", "--help")])
def test_help_answers_even_when_a_setting_is_wrong(tmp_path: Path, args: tuple[str, ...]) -> None:
    done = _pressgate(tmp_path, *args, env=WRONG)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: pressgate")
    assert done.stderr == ""
