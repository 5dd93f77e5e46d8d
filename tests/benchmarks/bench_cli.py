"""How long the command line takes to answer, as a person at a terminal waits for it: the
wall time of the installed `pressgate` from start to exit, beside `python -c pass` (the
interpreter starting and stopping, nothing else) in the same run. Median of several runs;
it fails only if a command fails.
"""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.benchmarks import table
from tests.factories import EXAMPLE_CONFIG

RUNS = 7
SECRET = "bench-secret-key-0123456789abcdefghijklmnopqrstuv"
TEXT = "Applications open today: https://www.gov.uk/grants #SmallBusiness"


def _wall(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    """The median wall time of `args`, each run a fresh process."""
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
        samples.append(time.perf_counter() - start)
        assert done.returncode == 0, (args, done.stderr)
    return statistics.median(samples)


def bench_the_command_line_beside_python_starting(tmp_path: Path) -> None:
    pressgate = str(Path(sys.executable).parent / "pressgate")
    office = tmp_path / "office"  # an installation: a database with the map in force
    office.mkdir()
    (office / "pressgate.toml").write_text(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    outside = tmp_path / "elsewhere"  # no database here: nothing to read but the text
    outside.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PRESSGATE_SECRET_KEY": SECRET,
    }
    subprocess.run([pressgate, "init"], cwd=office, env=env, check=True, capture_output=True)
    floor = _wall([sys.executable, "-c", "pass"], office, env)
    cases = [
        ("pressgate --help", [pressgate, "--help"], office),
        (
            'pressgate check "text" (map in force, from the database)',
            [pressgate, "check", TEXT],
            office,
        ),
        ('pressgate check "text" (outside an installation)', [pressgate, "check", TEXT], outside),
        ("pressgate queue", [pressgate, "queue"], office),
        (
            "python -c 'import approvals.map_store' (loading the database layer, no command)",
            [sys.executable, "-c", "import approvals.map_store"],
            office,
        ),
    ]
    # A second floor: loading the libraries every command stands on (Typer for the command
    # line, pydantic-settings for the settings), with nothing of pressgate.
    libraries = _wall([sys.executable, "-c", "import typer, pydantic_settings"], office, env)
    spent_on: dict[str, float] = {}
    for label, args, cwd in cases:
        spent = spent_on[label] = _wall(args, cwd, env)
        print(f"\n{label}: {spent * 1e3:.0f} ms (python -c pass: {floor * 1e3:.0f} ms)")
        table.add("CLI", label, spent * 1e3, floor * 1e3, "ms", "python -c pass")
    for label, _, _ in cases[:3]:
        table.add(
            "CLI", f"{label}, against its libraries", spent_on[label] * 1e3, libraries * 1e3,
            "ms", "python -c 'import typer, pydantic_settings'",
        )  # fmt: skip
