"""Real `pressgate run --worker-only` processes on PostgreSQL, publishing to the fake X.

For the tests that must kill, freeze and race workers: a press office migrated as users get
it, accounts connected with tokens the fake issued, the map written to a file the workers
read, and helpers to start, SIGKILL, SIGSTOP and SIGCONT worker processes. Timings (beat,
lease, settle, backoff) are shortened so tests take seconds; every limit a test does not
name (`PRESSGATE_MAX_ATTEMPTS` above all) is the user's default.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from approvals.clock import FrozenClock
from approvals.db import make_engine
from approvals.map_store import get_account
from approvals.migrate import upgrade
from approvals.models import Post, PostState
from tests.bot.conftest import drop_schema
from tests.bot.publishing_world import SECRET, connect_account
from tests.factories import AUDIT_KEY, AUDIT_KEYS, Org, load_org
from tests.fakes.fake_x import FakeUser, FakeX

FAST = {
    "PRESSGATE_X_TIMEOUT": "0.6",
    "PRESSGATE_DISPATCH_INTERVAL": "0.3",
    "PRESSGATE_DISPATCH_LEASE": "3",
    "PRESSGATE_DISPATCH_SETTLE_AFTER": "0.5",
    "PRESSGATE_RETRY_BASE": "0.2",
    "PRESSGATE_RETRY_MAX": "1.5",
}


@dataclass
class Office:
    """A press office on PostgreSQL whose accounts are connected to the fake X."""

    engine: Engine
    fake: FakeX
    org: Org
    users: dict[str, FakeUser]
    config_path: Path
    database_url: str
    log: Path
    env_overrides: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def clock(self) -> FrozenClock:
        return self.org.clock

    def env(self, **overrides: str) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PRESSGATE_DATABASE_URL": self.database_url,
            "PRESSGATE_CONFIG": str(self.config_path),
            "PRESSGATE_SECRET_KEY": SECRET,
            "PRESSGATE_AUDIT_KEY": AUDIT_KEY,
            "PRESSGATE_AUDIT_ANCHOR_FILE": str(self.log.with_name("anchors.jsonl")),
            "PRESSGATE_X_API_URL": self.fake.base_url,
            "PRESSGATE_X_CONSUMER_KEY": self.fake.consumer_key,
            "PRESSGATE_X_CONSUMER_SECRET": self.fake.consumer_secret,
            "PRESSGATE_LOG_LEVEL": "INFO",
            **FAST,
            **self.env_overrides,
            **overrides,
        }

    def start_worker(self, **overrides: str) -> subprocess.Popen[bytes]:
        script = Path(sys.executable).parent / "pressgate"
        with self.log.open("ab") as out:
            process = subprocess.Popen(
                [str(script), "run", "--worker-only"],
                env=self.env(**overrides),
                stdout=out,
                stderr=out,
            )
        self.processes.append(process)
        return process

    def started(self, process: subprocess.Popen[bytes]) -> bool:
        """The worker has said it started (its scheduler runs): `worker HOST:PID started`."""
        return f":{process.pid} started" in self.worker_log()

    def stop_workers(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)  # a stopped process cannot die otherwise
                process.send_signal(signal.SIGKILL)
            process.wait()
        self.processes.clear()

    def wait_until(self, condition: Callable[[], bool], *, timeout: float, what: str) -> None:
        """`wait_until`, showing the workers' log when it times out."""
        try:
            wait_until(condition, timeout=timeout, what=what)
        except AssertionError as error:
            raise AssertionError(
                f"{error}\n--- workers' log ---\n{self.worker_log()[-6000:]}"
            ) from None

    def worker_log(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def post(self, post_id: int | None) -> Post:
        with Session(self.engine) as session:
            post = session.get(Post, post_id)
            assert post is not None
            return post

    def count(self, state: PostState) -> int:
        with Session(self.engine) as session:
            query = select(func.count()).where(col(Post.state) == state)
            return int(session.exec(query).one())

    def approved(self, *parts: str, account: str, due_in: timedelta = timedelta()) -> Post:
        """A post approved by enough people, due `due_in` from the wall clock."""
        post = self.org.submitted(
            parts=list(parts), account=account, scheduled_in=timedelta(minutes=1)
        )
        approvers = ["bob@example.org", "carol@example.org"]
        self.org.approve(post, *approvers[: self.required(account)])
        post.scheduled_at = datetime.now(UTC) + due_in
        self.org.session.add(post)
        self.org.session.commit()
        return post

    def required(self, account: str) -> int:
        return get_account(self.org.session, account).approvals_required


def wait_until(
    condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.1
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting until {what}")
        time.sleep(interval)


@contextmanager
def office(database_url: str, tmp_path: Path, raw: dict[str, Any], **env: str) -> Iterator[Office]:
    """The office of the map `raw`, every account connected; workers are killed on exit."""
    engine = make_engine(database_url, audit_keys=AUDIT_KEYS)
    drop_schema(engine)
    upgrade(engine)
    clock = FrozenClock(datetime.now(UTC) - timedelta(minutes=10))
    config_path = tmp_path / "pressgate.toml"
    config_path.write_text(to_toml(raw), encoding="utf-8")
    with FakeX() as fake, Session(engine, expire_on_commit=False) as session:
        org = load_org(session, clock, raw)
        users = {}
        for account in raw["accounts"]:
            if account["kind"] == "corporate":
                name = account["handle"].lstrip("@")
                users[name] = fake.add_user(name)
                connect_account(engine, clock, account["handle"], users[name])
        place = Office(
            engine, fake, org, users, config_path, database_url, tmp_path / "workers.log", env
        )
        try:
            yield place
        finally:
            place.stop_workers()
    engine.dispose()


def to_toml(raw: dict[str, Any]) -> str:
    """The map as the file a user writes (only what the test maps hold)."""
    lines: list[str] = []
    for account in raw["accounts"]:
        lines.append("[[accounts]]")
        lines += [f"{k} = {_value(v)}" for k, v in account.items()]
    for name, role in raw["roles"].items():
        lines.append(f"[roles.{name}]")
        lines += [f"{k} = {_value(v)}" for k, v in role.items()]
    for person in raw["people"]:
        lines.append("[[people]]")
        lines += [f"{k} = {_value(v)}" for k, v in person.items()]
    for window in raw.get("blackouts", []):
        lines.append("[[blackouts]]")
        lines += [f"{k} = {_value(v)}" for k, v in window.items()]
    return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace('"', '\\"') + '"'
