"""Exactly once under fire (invariants 1, 3, 4): three `pressgate run --worker-only`
processes on PostgreSQL publish 300+ approved posts while the fake X injects 429s, 5xx,
dropped connections and timeouts, and the test SIGKILLs workers at random moments.

Afterwards every approved post is on X exactly once (counted on the fake's record), thread
chains are intact, nothing unapproved, paused or blacked out went out, and no post failed:
the workers run with the user's default attempt limit, and crashes do not count against it.
"""

import random
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from approvals.delivery import controls
from approvals.models import AuditEntry, Post, PostState
from approvals.records import audit
from tests.bot.worker_processes import office
from tests.factories import small_config

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


def test_three_workers_killed_at_random_publish_every_post_exactly_once(
    postgres_server_url: str, tmp_path: Path
) -> None:
    raw = _config()
    expected: dict[str, list[str]] = {}
    forbidden: list[str] = []
    with office(postgres_server_url, tmp_path, raw) as place:
        org, fake, engine = place.org, place.fake, place.engine
        fake.latency = 0.1
        fake.timeout_sleep = 1.5
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
            org.clock.advance(timedelta(milliseconds=10))
        for n in range(10):
            unapproved = org.submitted(
                parts=[f"Acct1 unapproved {n}"], account="@Acct1", scheduled_in=timedelta(minutes=1)
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
            org.session,
            actor=org.person("sam@example.org"),
            now=org.clock.now(),
            account_handle="@Paused",
        )
        org.session.commit()

        fake.chaos(0.12, ["429", "500", "503", "timeout_before", "timeout_after", "reset"], seed=11)
        # The user's own attempt limit (PRESSGATE_MAX_ATTEMPTS unset): crashes must not use it up.
        workers = [place.start_worker() for _ in range(3)]
        killer = random.Random(3)
        kills = 0
        started = time.monotonic()
        while time.monotonic() - started < DEADLINE:
            time.sleep(killer.uniform(0.4, 1.6))
            if _published(engine) == len(ACCOUNTS) * POSTS_PER_ACCOUNT:
                break
            # Kill only workers that are at work: one still starting (imports, migrations
            # check) has nothing in flight, and on a loaded machine start-up can outlast the
            # kill interval, so killing those would test nothing and publish nothing.
            working = [n for n, w in enumerate(workers) if place.started(w)]
            if not working:
                continue
            victim = killer.choice(working)
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait()
            kills += 1
            workers[victim] = place.start_worker()
        place.stop_workers()
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
            gave_up = session.exec(
                select(Post.id).where(
                    col(Post.state) == PostState.FAILED, col(Post.failure_retryable).is_(False)
                )
            ).all()
            assert gave_up == [], "no post may fail for good: X refused none of them for good"
            most = session.exec(select(func.max(Post.attempts))).one()
            assert most is not None and most < 8, "only errors X answered count as attempts"
            assert audit.verify(session).ok
            actions = set(session.exec(select(AuditEntry.action).distinct()).all())
        assert {
            "post.published",
            "post.outcome_unknown",
            "post.reconciled",
            "post.failed",
        } <= actions


def _published(engine: Any) -> int:
    with Session(engine) as session:
        query = select(func.count()).where(col(Post.state) == PostState.PUBLISHED)
        return int(session.exec(query).one())
