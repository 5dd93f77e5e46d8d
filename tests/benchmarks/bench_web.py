"""The pages people live in, under load: the review page and the compose page served by
`pressgate run --web-only` (uvicorn, one process, SQLite) to 50 concurrent clients on
loopback, beside a constant endpoint of the same app (`/healthz`) in the same run, so the
figure says what the page itself costs. Prints median and p99 latency and the ratio to the
floor; it fails only if a page answers with an error.
"""

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.benchmarks import table
from tests.bot.conftest import free_port
from tests.factories import EXAMPLE_CONFIG

CLIENTS = 50
REQUESTS_PER_CLIENT = 20
HEADER = "X-Bench-Email"
SECRET = "bench-secret-key-0123456789abcdefghijklmnopqrstuv"


def _pressgate(*args: str, env: dict[str, str], stdin: str | None = None) -> str:
    script = Path(sys.executable).parent / "pressgate"
    done = subprocess.run(
        [str(script), *args], env=env, input=stdin, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, int]:
    """A seeded database and `pressgate run --web-only` on it; (base URL, a post id)."""
    where = tmp_path_factory.mktemp("web-bench")
    config = where / "pressgate.toml"
    config.write_text(EXAMPLE_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PRESSGATE_DATABASE_URL": f"sqlite:///{where}/pressgate.db",
        "PRESSGATE_CONFIG": str(config),
        "PRESSGATE_SECRET_KEY": SECRET,
        "PRESSGATE_PROXY_AUTH_HEADER": HEADER,
        "PRESSGATE_TRUSTED_PROXIES": '["127.0.0.1"]',
        "PRESSGATE_LOG_LEVEL": "WARNING",
    }
    _pressgate("init", env=env)
    parts = "\n---\n".join(
        f"Part {n} of our annual report thread: receipts, costs and what changed. "
        f"Details at https://www.gov.uk/report-{n}"
        for n in range(1, 4)
    )
    drafted = _pressgate(
        "draft", "--as", "alice@example.org", "-a", "@DeptNews", "--file", "-",
        "--at", "2027-01-05 09:00", "--submit", "--json", env=env, stdin=parts,
    )  # fmt: skip
    post_id = int(json.loads(drafted)["id"])
    for n in range(2, 6):  # a few revisions, so the review page has history to read
        edited = parts.replace("receipts", f"receipts (v{n})")
        _pressgate(
            "edit", str(post_id), "--as", "alice@example.org", "--file", "-", env=env, stdin=edited
        )
    port = free_port()
    script = Path(sys.executable).parent / "pressgate"
    process = subprocess.Popen(
        [str(script), "run", "--web-only", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "pressgate did not start"
        time.sleep(0.1)
    yield base, post_id
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=10)


async def _load(base: str, path: str, email: str) -> list[float]:
    """CLIENTS clients at once, each sending REQUESTS_PER_CLIENT requests one after another."""
    limits = httpx.Limits(max_connections=CLIENTS)
    resets: list[str] = []
    async with httpx.AsyncClient(
        base_url=base, headers={HEADER: email}, limits=limits, timeout=60
    ) as client:

        async def one_client() -> list[float]:
            times = []
            for _ in range(REQUESTS_PER_CLIENT):
                start = time.perf_counter()
                try:
                    answer = await client.get(path)
                except httpx.TransportError:  # a kept-alive connection closed under us
                    resets.append(path)  # counted and printed; the request is sent again
                    answer = await client.get(path)
                times.append(time.perf_counter() - start)
                assert answer.status_code == 200, (path, answer.status_code)
            return times

        per_client = await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
    if resets:
        print(f"\n{path}: {len(resets)} connection(s) reset and the request sent again")
    return [t for times in per_client for t in times]


def _figures(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


def bench_the_review_and_compose_pages_under_50_clients(server: tuple[str, int]) -> None:
    base, post_id = server
    asyncio.run(_load(base, "/healthz", "bob@example.org"))  # warm up the process
    floor = _figures(asyncio.run(_load(base, "/healthz", "bob@example.org")))
    rows = [("/healthz (floor)", floor)]
    for label, path, email in (
        ("review page", f"/posts/{post_id}/review", "bob@example.org"),
        ("compose page", "/posts/new", "alice@example.org"),
        ("post page", f"/posts/{post_id}", "alice@example.org"),
        ("home page", "/", "bob@example.org"),
    ):
        rows.append((label, _figures(asyncio.run(_load(base, path, email)))))
    print(f"\n{CLIENTS} concurrent clients x {REQUESTS_PER_CLIENT} requests, one uvicorn process")
    print(f"{'page':<18} {'median ms':>10} {'p99 ms':>10} {'x floor (median)':>17}")
    for label, (median, p99) in rows:
        ratio = median / floor[0]
        print(f"{label:<18} {median * 1e3:>10.1f} {p99 * 1e3:>10.1f} {ratio:>17.1f}")
    floor_is = f"/healthz of the same app, {CLIENTS} clients"
    for label, (median, p99) in rows[1:]:
        table.add("web", f"{label}: median", median * 1e3, floor[0] * 1e3, "ms", floor_is)
        table.add("web", f"{label}: p99", p99 * 1e3, floor[1] * 1e3, "ms", floor_is)
