"""A campaign going out on every regional account at 09:00: 2,000 approved posts across 500
accounts, all due at one instant, published by real `pressgate run` processes through tweepy
to the fake X (in its own process), which answers each post after 150 ms.

Runs: one worker on PostgreSQL (the full `pressgate run`, web included, which also gives the
start-up and memory rows), three workers on PostgreSQL, one worker on SQLite, each with the
settings a user gets. Floor, in the same run: the same 2,000 calls sent straight to the fake
with the same total concurrency (workers x PRESSGATE_DISPATCH_CONCURRENCY), each account's
posts one after another, no database. Lateness is published - scheduled. Per-account order
is asserted; speed is reported, never asserted (machines differ).
"""

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select as select_rows
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel, col, select

from approvals.clock import FrozenClock
from approvals.db import make_engine
from approvals.delivery.credentials import XTokens
from approvals.delivery.publisher import OutgoingPart
from approvals.migrate import upgrade
from approvals.models import Post, PostState, Revision, RevisionPart
from approvals.posts import PartInput, content_hash
from bot.settings import Settings
from bot.x_client import XClient
from tests.benchmarks import table
from tests.bot.conftest import drop_schema, free_port
from tests.bot.publishing_world import SECRET, connect_account
from tests.bot.worker_processes import to_toml
from tests.conftest import POSTGRES_URL
from tests.factories import AUDIT_KEY, AUDIT_KEYS, load_org
from tests.fakes.fake_x import FakeUser

POSTS = int(os.environ.get("BENCH_DISPATCH_POSTS", "2000"))  # smaller only while iterating
ACCOUNTS = POSTS // 4
LATENCY = 0.15  # seconds the fake X takes to answer each post
LEAD = 10.0  # seconds between starting the workers and the posts falling due
CONCURRENCY = Settings.model_fields["dispatch_concurrency"].default  # what a user gets
HANDLES = [f"@Region{n:03d}" for n in range(1, ACCOUNTS + 1)]
SECTION = "dispatch"


def _map() -> dict[str, Any]:
    return {
        "accounts": [{"handle": h, "kind": "corporate"} for h in HANDLES],
        "roles": {
            "officer": {"actions": ["draft", "submit"], "accounts": ["*"]},
            "approver": {"actions": ["approve"], "accounts": ["*"]},
            "lead": {"actions": ["manage", "approve"], "accounts": ["*"]},
        },
        "people": [
            {"email": "alice@example.org", "roles": ["officer"]},
            {"email": "bob@example.org", "roles": ["approver"]},
            {"email": "dana@example.org", "roles": ["lead"]},
        ],
    }


def _text(n: int) -> str:
    return f"Campaign day: post {n} of {POSTS} for {HANDLES[n % ACCOUNTS]}. Details at 09:00."


@dataclass
class Fake:
    base_url: str
    consumer_key: str
    consumer_secret: str
    users: list[FakeUser]
    process: "subprocess.Popen[str] | None"

    def cpu(self) -> float:
        assert self.process is not None
        return _cpu_seconds(self.process.pid)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.fixture(scope="module")
def fake() -> Iterator[Fake]:
    """The fake X in its own process (as X is), so its work does not share our interpreter."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.fake_x",
            *(f"--user={h.lstrip('@')}" for h in HANDLES),
            "--latency",
            str(LATENCY),
            "--no-duplicate-check",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        creds = json.loads(process.stdout.readline())
        users = [FakeUser(**u) for u in creds["users"]]
        yield Fake(base_url, creds["consumer_key"], creds["consumer_secret"], users, process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


BUILD_SQLITE = """
import json, sys
from tests.benchmarks.bench_dispatch import Fake, _build
from tests.fakes.fake_x import FakeUser
base, key, secret = json.loads(sys.stdin.readline())
users = [FakeUser(**u) for u in json.loads(sys.stdin.readline())]
_build(sys.argv[1], Fake(base, key, secret, users, None), __import__("pathlib").Path(sys.argv[2]))
"""


def _build(url: str, fake: Fake, config: Path) -> None:
    """The press office with every account connected and the 2,000 posts approved."""
    engine = make_engine(url, audit_keys=AUDIT_KEYS)
    drop_schema(engine)
    upgrade(engine)
    clock = FrozenClock(datetime.now(UTC) - timedelta(hours=1))
    raw = _map()
    config.write_text(to_toml(raw), encoding="utf-8")
    with Session(engine, expire_on_commit=False) as session:
        org = load_org(session, clock, raw)
        began = time.monotonic()
        for handle, user in zip(HANDLES, fake.users, strict=True):
            connect_account(engine, clock, handle, user)
        connected = time.monotonic()
        first = org.submitted(_text(0), account=HANDLES[0], scheduled_in=timedelta(minutes=1))
        org.approve(first, "bob@example.org")
        session.commit()
    assert first.id is not None
    _copy_the_rest(engine, first.id)
    print(
        f"\n{engine.dialect.name}: {ACCOUNTS} accounts connected in {connected - began:.1f} s, "
        f"{POSTS} posts approved in {time.monotonic() - connected:.1f} s"
    )
    engine.dispose()  # on SQLite the last connection to close folds the WAL into the file


def _copy_the_rest(engine: Engine, first: int) -> None:
    """Posts 2 to 2,000 as copies of the first one's rows (post, revision, part, approval),
    each with its own account, words and content hash. Through the domain every post costs
    about 40 ms to submit and approve, which made building the worlds take longer than the
    runs; what the dispatcher reads of a post is the same either way."""
    tables = SQLModel.metadata.tables
    post_t, revision_t = tables["post"], tables["revision"]
    part_t, approval_t = tables["revisionpart"], tables["approval"]

    def without_id(row: Any) -> dict[str, Any]:
        return {k: v for k, v in row._mapping.items() if k != "id"}

    with engine.begin() as conn:
        post = without_id(conn.execute(select_rows(post_t).where(post_t.c.id == first)).one())
        revision_row = conn.execute(
            select_rows(revision_t).where(revision_t.c.post_id == first)
        ).one()
        revision = without_id(revision_row)
        part = without_id(
            conn.execute(select_rows(part_t).where(part_t.c.revision_id == revision_row.id)).one()
        )
        approvals = [
            without_id(a)
            for a in conn.execute(
                select_rows(approval_t).where(approval_t.c.post_id == first)
            ).all()
        ]
        accounts = {
            handle: (account_id, key)
            for account_id, handle, key in conn.execute(text("SELECT id, handle, key FROM account"))
        }
        for n in range(1, POSTS):
            account_id, key = accounts[HANDLES[n % ACCOUNTS]]
            words = _text(n)
            post_id = conn.execute(
                post_t.insert().values({**post, "account_id": account_id})
            ).inserted_primary_key[0]
            digest = content_hash(key, [PartInput(words)])
            revision_id = conn.execute(
                revision_t.insert().values({**revision, "post_id": post_id, "content_hash": digest})
            ).inserted_primary_key[0]
            conn.execute(
                part_t.insert().values({**part, "revision_id": revision_id, "text": words})
            )
            for approval in approvals:
                conn.execute(
                    approval_t.insert().values(
                        {**approval, "post_id": post_id, "revision_id": revision_id}
                    )
                )


@pytest.fixture(scope="module")
def worlds(fake: Fake, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One PostgreSQL template database and one SQLite file, each built once and copied
    for every run (building 2,000 approved posts takes longer than publishing them)."""
    where = tmp_path_factory.mktemp("dispatch")
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    stamp = f"{os.getpid()}_{int(time.time())}"
    template = f"pressgate_bench_{stamp}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{template}"'))
    pg_url = make_url(POSTGRES_URL).set(database=template).render_as_string(hide_password=False)
    started = time.monotonic()
    sqlite_file = where / "world.db"
    # The SQLite world is built by a second process meanwhile: building is CPU work and the
    # machine has more than one core.
    beside = subprocess.Popen(
        [sys.executable, "-c", BUILD_SQLITE, f"sqlite:///{sqlite_file}", str(where / "lite.toml")],
        stdin=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert beside.stdin is not None
    beside.stdin.write(json.dumps([fake.base_url, fake.consumer_key, fake.consumer_secret]))
    beside.stdin.write("\n" + json.dumps([u.__dict__ for u in fake.users]))
    beside.stdin.close()
    _build(pg_url, fake, where / "pressgate.toml")
    assert beside.wait(timeout=600) == 0, "building the SQLite world failed"
    print(f"\ndispatch worlds built in {time.monotonic() - started:.0f} s")
    copies: list[str] = []
    yield {
        "where": where,
        "admin": admin,
        "template": template,
        "sqlite": sqlite_file,
        "copies": copies,
    }
    with admin.connect() as conn:
        for name in [*copies, template]:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _copy(worlds: dict[str, Any], kind: str, label: str) -> str:
    if kind == "sqlite":
        target = worlds["where"] / f"{label}.db"
        shutil.copyfile(worlds["sqlite"], target)
        return f"sqlite:///{target}"
    name = f"{worlds['template']}_{label}"
    with worlds["admin"].connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{worlds["template"]}"'))
    worlds["copies"].append(name)
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


@dataclass
class Outcome:
    seconds: float  # from the instant the posts fell due to the last one published
    lateness: list[float]
    cpu_seconds: float  # spent by the publishing processes (workers, or the floor's threads)
    fake_cpu_seconds: float

    @property
    def throughput(self) -> float:
        return POSTS / self.seconds


def _start(url: str, fake: Fake, config: Path, log: Path, web_port: int | None) -> Any:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(config.parent),
        "PRESSGATE_DATABASE_URL": url,
        "PRESSGATE_CONFIG": str(config),
        "PRESSGATE_SECRET_KEY": SECRET,
        "PRESSGATE_AUDIT_KEY": AUDIT_KEY,
        "PRESSGATE_AUDIT_ANCHOR_FILE": str(config.with_name("anchors.jsonl")),
        "PRESSGATE_X_API_URL": fake.base_url,
        "PRESSGATE_X_CONSUMER_KEY": fake.consumer_key,
        "PRESSGATE_X_CONSUMER_SECRET": fake.consumer_secret,
        "PRESSGATE_PROXY_AUTH_HEADER": "X-Bench-Email",
        "PRESSGATE_TRUSTED_PROXIES": '["127.0.0.1"]',
    }
    script = Path(sys.executable).parent / "pressgate"
    args = ["run", "--port", str(web_port)] if web_port else ["run", "--worker-only"]
    with log.open("ab") as out:
        return subprocess.Popen([str(script), *args], env=env, stdout=out, stderr=out)


def _due_now_plus(url: str, lead: float) -> datetime:
    """Every post falls due at one instant, `lead` seconds from now."""
    due = datetime.now(UTC) + timedelta(seconds=lead)
    engine = make_engine(url, audit_keys=AUDIT_KEYS)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE post SET scheduled_at = :due"),
            {"due": due.replace(tzinfo=None)},
        )
    engine.dispose()
    return due


def _wait_for(condition: Any, timeout: float, what: str, log: Path, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:]
            raise AssertionError(f"timed out waiting until {what}\n{tail}")
        time.sleep(interval)


def _published(url: str) -> list[tuple[int, int, datetime, datetime, str]]:
    """(post id, account id, scheduled, published, first part's X id) of published posts."""
    engine = make_engine(url, audit_keys=AUDIT_KEYS)
    with Session(engine) as session:
        rows = session.exec(
            select(
                Post.id,
                Post.account_id,
                Post.scheduled_at,
                Post.published_at,
                RevisionPart.x_post_id,
            )
            .join(Revision, col(Revision.post_id) == col(Post.id))
            .join(RevisionPart, col(RevisionPart.revision_id) == col(Revision.id))
            .where(col(Post.state) == PostState.PUBLISHED, col(RevisionPart.x_post_id).is_not(None))
        ).all()
    engine.dispose()
    return [(int(a), int(b), c, d, str(e)) for a, b, c, d, e in rows]  # type: ignore[arg-type]


def _count_published(url: str) -> int:
    engine = make_engine(url, audit_keys=AUDIT_KEYS)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM post WHERE state = 'published'")).scalar()
    engine.dispose()
    return int(count or 0)


def _assert_order(rows: list[tuple[int, int, datetime, datetime, str]]) -> None:
    """Each account's posts reached X in the order they were approved and scheduled."""
    by_account: dict[int, list[tuple[int, str]]] = {}
    for post_id, account_id, _, _, x_id in rows:
        by_account.setdefault(account_id, []).append((post_id, x_id))
    for account_id, posts in by_account.items():
        x_ids = [int(x) for _, x in sorted(posts)]
        assert x_ids == sorted(x_ids), f"account {account_id}: posts went out of order"


def _dispatch(
    worlds: dict[str, Any], fake: Fake, kind: str, workers: int, *, full_run: bool = False
) -> Outcome:
    label = f"{kind}_{workers}"
    url = _copy(worlds, kind, label)
    config = worlds["where"] / "pressgate.toml"
    log = worlds["where"] / f"{label}.log"
    due = _due_now_plus(url, LEAD)
    port = free_port() if full_run else None
    spawned = time.monotonic()
    processes = [_start(url, fake, config, log, port if i == 0 else None) for i in range(workers)]
    try:
        if full_run:
            _wait_for(lambda: _ready(port), 60, "pressgate run answers /readyz", log, 0.02)
            ready = time.monotonic() - spawned
            _wait_for(lambda: log.read_text().count(" started (beat") >= 1, 60, "started", log)
            idle = _rss_mib(processes[0].pid)
        started_all = lambda: log.read_text().count(" started (beat") >= workers  # noqa: E731
        _wait_for(started_all, 60, "every worker started", log)
        assert datetime.now(UTC) < due, f"workers took longer than {LEAD} s to start"
        cpu_before = sum(_cpu_seconds(p.pid) for p in processes)
        fake_before = fake.cpu()
        _wait_for(lambda: _count_published(url) >= POSTS, 300, "all posts published", log, 0.5)
        cpu = sum(_cpu_seconds(p.pid) for p in processes) - cpu_before
        fake_cpu = fake.cpu() - fake_before
        if full_run:
            after = _rss_mib(processes[0].pid)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    rows = _published(url)
    assert len(rows) == POSTS, "every post published exactly once"
    _assert_order(rows)
    assert "Traceback" not in log.read_text(errors="replace"), log.read_text()[-3000:]
    lateness = [(published - scheduled).total_seconds() for _, _, scheduled, published, _ in rows]
    outcome = Outcome(max(lateness), lateness, cpu, fake_cpu)
    if full_run:
        worlds["startup"] = ready
        worlds["rss"] = (idle, after)
    return outcome


def _ready(port: int | None) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _floor(fake: Fake, concurrency: int) -> Outcome:
    """The same 2,000 calls through the same client code, no database, same concurrency."""
    by_account: dict[int, list[int]] = {}
    for n in range(POSTS):
        by_account.setdefault(n % ACCOUNTS, []).append(n)
    clients = {
        a: XClient(
            tokens=XTokens(
                "oauth1",
                access_token=fake.users[a].access_token,
                access_token_secret=fake.users[a].access_token_secret,
            ),
            x_user_id=fake.users[a].id,
            consumer_key=fake.consumer_key,
            consumer_secret=fake.consumer_secret,
            api_url=fake.base_url,
        )
        for a in by_account
    }
    lateness: list[float] = []

    def drain(account: int) -> None:
        for n in by_account[account]:
            clients[account].create_post(OutgoingPart(0, "floor " + _text(n)), reply_to=None)
            lateness.append(time.monotonic() - start)

    cpu_before, fake_before = time.process_time(), fake.cpu()
    start = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(drain, by_account))
    return Outcome(
        max(lateness), lateness, time.process_time() - cpu_before, fake.cpu() - fake_before
    )


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * 0.99) - 1, 0)]


def _report(name: str, run: Outcome, floor: Outcome, concurrency: int) -> None:
    floor_is = f"same calls, no database, {concurrency} at once"
    rows = [
        (f"time for {POSTS:,} posts", run.seconds, floor.seconds, "s"),
        ("throughput", run.throughput, floor.throughput, "posts/s"),
        (
            "lateness median",
            statistics.median(run.lateness),
            statistics.median(floor.lateness),
            "s",
        ),
        ("lateness p99", _p99(run.lateness), _p99(floor.lateness), "s"),
        ("lateness max", max(run.lateness), max(floor.lateness), "s"),
        (
            "CPU per post (publishers)",
            run.cpu_seconds / POSTS * 1e3,
            floor.cpu_seconds / POSTS * 1e3,
            "ms",
        ),
        (
            "CPU per post (fake X)",
            run.fake_cpu_seconds / POSTS * 1e3,
            floor.fake_cpu_seconds / POSTS * 1e3,
            "ms",
        ),
    ]
    for figure, value, least, unit in rows:
        table.add(SECTION, f"{name}: {figure}", value, least, unit, floor_is)
    print(
        f"\n{name}: {run.seconds:.1f} s (floor {floor.seconds:.1f} s), p99 lateness "
        f"{_p99(run.lateness):.2f} s, load {os.getloadavg()[0]:.2f}"
    )


def bench_one_worker_on_postgresql(worlds: dict[str, Any], fake: Fake) -> None:
    run = _dispatch(worlds, fake, "postgresql", 1, full_run=True)
    worlds["floor_1"] = _floor(fake, CONCURRENCY)  # one worker's floor, for SQLite's run too
    _report("PostgreSQL, 1 worker", run, worlds["floor_1"], CONCURRENCY)
    idle, after = worlds["rss"]
    bare = _bare_python_rss()
    table.add("memory", "pressgate run, idle (RSS)", idle, bare, "MiB", "a bare python process")
    table.add(
        "memory", f"pressgate run, after {POSTS:,} posts (RSS)", after, bare, "MiB",
        "a bare python process",
    )  # fmt: skip
    table.add(
        "start-up", "pressgate run to /readyz answering", worlds["startup"], _bare_http_start(),
        "s", "python's http.server to its first answer",
    )  # fmt: skip


def bench_three_workers_on_postgresql(worlds: dict[str, Any], fake: Fake) -> None:
    run = _dispatch(worlds, fake, "postgresql", 3)
    _report("PostgreSQL, 3 workers", run, _floor(fake, 3 * CONCURRENCY), 3 * CONCURRENCY)
    # The least any dispatcher could do on this machine: every account's posts at once, one
    # thread each, no database. Its lateness is what the network and the client alone cost.
    fan_out = _floor(fake, ACCOUNTS)
    floor_is = f"same calls, no database, every account at once ({ACCOUNTS} threads)"
    for figure, value, least in (
        ("lateness p99", _p99(run.lateness), _p99(fan_out.lateness)),
        (f"time for {POSTS:,} posts", run.seconds, fan_out.seconds),
    ):
        table.add(SECTION, f"PostgreSQL, 3 workers: {figure}, against full fan-out", value,
                  least, "s", floor_is)  # fmt: skip
    print(
        f"\nfull fan-out floor: p99 lateness {_p99(fan_out.lateness):.2f} s, "
        f"time {fan_out.seconds:.1f} s, client CPU {fan_out.cpu_seconds:.1f} s"
    )


def bench_one_worker_on_sqlite(worlds: dict[str, Any], fake: Fake) -> None:
    run = _dispatch(worlds, fake, "sqlite", 1)
    floor = worlds.get("floor_1") or _floor(fake, CONCURRENCY)
    _report("SQLite, 1 worker", run, floor, CONCURRENCY)


def _bare_python_rss() -> float:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    time.sleep(0.5)
    rss = _rss_mib(process.pid)
    process.kill()
    process.wait()
    return rss


def _bare_http_start() -> float:
    port = free_port()
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd="/",
    )
    try:
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                return time.monotonic() - started
            except httpx.HTTPError:
                time.sleep(0.02)
    finally:
        process.kill()
        process.wait()
