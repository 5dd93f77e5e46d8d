"""The one table `make bench` prints: every figure beside a floor measured in the same run.

A floor is the least the same work can cost on this machine at that moment (the same calls
with no database, a bare Python start, one regex pass...), so the ratio says what pressgate
itself adds and a regression shows even on a noisy, shared machine. Bench modules `add()`
rows; the session fixture in `conftest.py` prints the table and writes it as JSON to
tests/artifacts/bench.json when the run ends.
"""

import json
import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path

ARTIFACT = Path(__file__).resolve().parents[1] / "artifacts" / "bench.json"


@dataclass(frozen=True)
class Row:
    section: str  # dispatch, policy, web, CLI, memory, start-up
    figure: str  # what was measured, e.g. "PostgreSQL, 1 worker: time for 2,000 posts"
    value: float | None
    floor: float | None
    unit: str
    floor_is: str  # what the floor is, in a few words
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.floor:
            return None
        return self.value / self.floor


ROWS: list[Row] = []


def add(
    section: str,
    figure: str,
    value: float | None,
    floor: float | None,
    unit: str,
    floor_is: str,
    note: str = "",
) -> None:
    ROWS.append(Row(section, figure, value, floor, unit, floor_is, note))


def machine() -> dict[str, object]:
    """Cores, memory and load: the figures mean little without them."""
    memory_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kb = int(line.split()[1])
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def render(rows: list[Row], about: dict[str, object]) -> str:
    head = ("section", "figure", "value", "floor", "ratio", "unit", "floor is")
    body = [
        (
            r.section,
            r.figure,
            _number(r.value),
            _number(r.floor),
            "-" if r.ratio is None else f"{r.ratio:.2f}",
            r.unit,
            r.floor_is + (f" ({r.note})" if r.note else ""),
        )
        for r in rows
    ]
    widths = [max(len(str(line[i])) for line in [head, *body]) for i in range(len(head))]
    lines = [
        f"pressgate bench: {about['cores']} cores, {about['memory_gib']} GiB, "
        f"load average {' '.join(str(x) for x in about['load_average'])} (at the end)",
        "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    for line in body:
        cells = [
            str(c).rjust(w) if 2 <= i <= 4 else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def write(rows: list[Row], about: dict[str, object], path: Path = ARTIFACT) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "machine": about,
        "rows": [asdict(r) | {"ratio": r.ratio} for r in rows],
    }
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
