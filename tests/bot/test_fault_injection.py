"""Exactly once under fire (invariants 1, 3, 4): three `pressgate run --worker-only`
processes on PostgreSQL publish 300+ approved posts while the fake X injects 429s, 5xx,
dropped connections and timeouts, and the test SIGKILLs workers at random moments.

Afterwards every approved post is on X exactly once (counted on the fake's record), thread
chains are intact, and nothing unapproved, paused or blacked out went out.
"""

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from approvals import audit, controls
from approvals.clock import FrozenClock
from approvals.db import make_engine
from approvals.migrate import upgrade
from approvals.models import AuditEntry, Post, PostState
from tests.bot.conftest import drop_schema
from tests.bot.publishing_world import SECRET, connect_account
from tests.factories import AUDIT_KEY, AUDIT_KEYS, load_org, small_config
from tests.fakes.fake_x import FakeX

pytestmark = pytest.mark.postgres

ACCOUNTS = ["Acct1", "Acct2", "Acct3", "Acct4", "Acct5", "Acct6"]
POSTS_PER_ACCOUNT = 52  # 312 approved posts, every 13th a three-part thread
DEADLINE = 240  # seconds


def _config() -> dict[str, Any]:
    raw = small_config()
    handles = [f"@{a}" for a in ACCOUNTS] + ["@Paused", "@Blacked"]
    raw["accounts"] = [{"handle": h, "kind": "corporate"} for h in handles]
    raw["accounts"][0]["approvals_required"] = 2
    for role in ("officer", "approver"):
        raw["roles"][role]["accounts"] = handles
    raw["roles"]["duty"] = {"actions": ["pause"], "accounts": ["*"]}
    raw["people"].append({"email": "sam@example.org", "roles": ["duty"]})
    now = datetime.now(UTC)
    raw["blackouts"] = [
        {
            "name": "Purdah",
            "start": (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
            "end": (now + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M"),
            "timezone": "UTC",
            "accounts": ["@Blacked"],
        }
    ]
    return raw


def _texts(account: str, n: int) -> list[str]:
    if n % 13 == 0:
        return [f"{account} thread {n} part {k}/3" for k in (1, 2, 3)]
    return [f"{account} post {n}"]


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    script = Path(sys.executable).parent / "pressgate"
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(script), "run", "--worker-only"], env=env, stdout=out, stderr=out
        )


def test_three_workers_killed_at_random_publish_every_post_exactly_once(
    postgres_server_url: str, tmp_path: Path
) -> None:
    engine = make_engine(postgres_server_url, audit_keys=AUDIT_KEYS)
    drop_schema(engine)
    upgrade(engine)

    clock = FrozenClock(datetime.now(UTC) - timedelta(minutes=10))
    raw = _config()
    config_path = tmp_path / "pressgate.toml"
    expected: dict[str, list[str]] = {}
    forbidden: list[str] = []
    with FakeX() as fake:
        fake.latency = 0.1
        fake.timeout_sleep = 1.5
        with Session(engine, expire_on_commit=False) as session:
            org = load_org(session, clock, raw)
            users = {a: fake.add_user(a) for a in [*ACCOUNTS, "Paused", "Blacked"]}
            for name, user in users.items():
                connect_account(engine, clock, f"@{name}", user)
            rng = random.Random(7)
            for n in range(POSTS_PER_ACCOUNT):
                for account in ACCOUNTS:
                    parts = _texts(account, n)
                    post = org.submitted(
                        parts=parts,
                        account=f"@{account}",
                        scheduled_in=timedelta(minutes=1, seconds=rng.randint(0, 240)),
                    )
                    approvers = ["bob@example.org", "carol@example.org"]
                    org.approve(post, *approvers[: 2 if account == "Acct1" else 1])
                    expected[f"@{account}"] = expected.get(f"@{account}", []) + parts
                clock.advance(timedelta(milliseconds=10))
            for n in range(10):
                unapproved = org.submitted(
                    parts=[f"Acct1 unapproved {n}"],
                    account="@Acct1",
                    scheduled_in=timedelta(minutes=1),
                )
                org.approve(unapproved, "bob@example.org")  # one of the two it needs
                forbidden.append(f"Acct1 unapproved {n}")
                for blocked in ("Paused", "Blacked"):
                    post = org.submitted(
                        parts=[f"{blocked} {n}"],
                        account=f"@{blocked}",
                        scheduled_in=timedelta(minutes=1),
                    )
                    org.approve(post, "bob@example.org")
                    forbidden.append(f"{blocked} {n}")
            controls.pause(
                session,
                actor=org.person("sam@example.org"),
                now=clock.now(),
                account_handle="@Paused",
            )
            session.commit()

        fake.chaos(0.12, ["429", "500", "503", "timeout_before", "timeout_after", "reset"], seed=11)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PRESSGATE_DATABASE_URL": postgres_server_url,
            "PRESSGATE_CONFIG": str(config_path),
            "PRESSGATE_SECRET_KEY": SECRET,
            "PRESSGATE_AUDIT_KEY": AUDIT_KEY,
            "PRESSGATE_AUDIT_ANCHOR_FILE": str(tmp_path / "anchors.jsonl"),
            "PRESSGATE_X_API_URL": fake.base_url,
            "PRESSGATE_X_CONSUMER_KEY": fake.consumer_key,
            "PRESSGATE_X_CONSUMER_SECRET": fake.consumer_secret,
            "PRESSGATE_X_TIMEOUT": "0.6",
            "PRESSGATE_DISPATCH_INTERVAL": "0.3",
            "PRESSGATE_DISPATCH_LEASE": "3",
            "PRESSGATE_DISPATCH_SETTLE_AFTER": "0.5",
            "PRESSGATE_RETRY_BASE": "0.2",
            "PRESSGATE_RETRY_MAX": "1.5",
            "PRESSGATE_MAX_ATTEMPTS": "100",
            "PRESSGATE_LOG_LEVEL": "INFO",
        }
        config_path.write_text(_toml(raw), encoding="utf-8")
        log = tmp_path / "workers.log"
        workers = [_worker(env, log) for _ in range(3)]
        killer = random.Random(3)
        kills = 0
        started = time.monotonic()
        try:
            while time.monotonic() - started < DEADLINE:
                time.sleep(killer.uniform(0.4, 1.6))
                if _published(engine) == len(ACCOUNTS) * POSTS_PER_ACCOUNT:
                    break
                victim = killer.randrange(len(workers))
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                kills += 1
                workers[victim] = _worker(env, log)
        finally:
            for w in workers:
                w.send_signal(signal.SIGKILL)
                w.wait()
        elapsed = time.monotonic() - started

        counts = fake.posts_by_text(include_deleted=True)
        records = fake.posts
    print(f"\n{kills} SIGKILLs, {elapsed:.1f} s, {len(records)} posts on the fake X")

    all_expected = [t for texts in expected.values() for t in texts]
    missing = [t for t in all_expected if counts[t] == 0]
    repeated = {t: c for t, c in counts.items() if c > 1}
    assert not repeated, f"posted more than once: {repeated}"
    assert not missing, f"{len(missing)} never posted (after {elapsed:.0f} s): {missing[:5]}"
    assert not [t for t in forbidden if counts[t]], "an unapproved, paused or blacked-out post"
    assert len(records) == len(all_expected)
    assert kills >= 5, "the test must really kill workers"

    by_text = {r.text: r for r in records}
    for texts in expected.values():
        for text in texts:
            if text.endswith(("part 2/3", "part 3/3")):
                previous = text[:-3] + f"{int(text[-3]) - 1}/3"
                assert by_text[text].reply_to == by_text[previous].id, text
    with Session(engine) as session:
        states = dict(
            session.exec(select(Post.state, func.count()).group_by(col(Post.state))).all()
        )
        assert states[PostState.PUBLISHED] == len(ACCOUNTS) * POSTS_PER_ACCOUNT
        assert audit.verify(session).ok
        actions = set(session.exec(select(AuditEntry.action).distinct()).all())
    assert {"post.published", "post.outcome_unknown", "post.reconciled", "post.failed"} <= actions
    engine.dispose()


def _published(engine: Any) -> int:
    with Session(engine) as session:
        query = select(func.count()).where(col(Post.state) == PostState.PUBLISHED)
        return int(session.exec(query).one())


def _toml(raw: dict[str, Any]) -> str:
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
    for window in raw["blackouts"]:
        lines.append("[[blackouts]]")
        lines += [f"{k} = {_value(v)}" for k, v in window.items()]
    return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace('"', '\\"') + '"'
