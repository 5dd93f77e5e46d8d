"""SIGTERM on a worker: it finishes the post in hand or lets its claims go, and exits within
`PRESSGATE_SHUTDOWN_GRACE`; the other worker publishes the rest, each post exactly once.

Two full `pressgate run` processes (web and scheduler) on PostgreSQL on different ports,
publishing to the fake X, as replicas run in production.
"""

import signal
import subprocess
import sys
import time
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, func, select

from approvals.models import AuditEntry, Post, PostState
from approvals.records import audit
from tests.bot.conftest import free_port
from tests.bot.worker_processes import Office, office
from tests.factories import small_config

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ACCOUNTS = [f"Acct{n}" for n in range(1, 9)]
POSTS = 200
GRACE = 3.0


def _config() -> dict[str, Any]:
    raw = small_config()
    handles = [f"@{a}" for a in ACCOUNTS]
    raw["accounts"] = [{"handle": h, "kind": "corporate"} for h in handles]
    for role in ("officer", "approver"):
        raw["roles"][role]["accounts"] = handles
    return raw


def _serve(place: Office, port: int, **env: str) -> "subprocess.Popen[bytes]":
    script = Path(sys.executable).parent / "pressgate"
    with place.log.open("ab") as out:
        process = subprocess.Popen(
            [str(script), "run", "--port", str(port)],
            env=place.env(**{"PRESSGATE_SHUTDOWN_GRACE": str(GRACE), **env}),
            stdout=out,
            stderr=out,
        )
    place.processes.append(process)
    return process


def _ready(port: int) -> bool:
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
    except httpx.TransportError:
        return False
    return answer.status_code == 200 and answer.json()["scheduler"] == "running"


def _published(place: Office) -> int:
    return place.count(PostState.PUBLISHED)


def _claims_of(place: Office, pid: int) -> list[int]:
    """Posts still claimed by the process `pid` (worker names end in `:pid`)."""
    with Session(place.engine) as session:
        query = select(Post.id).where(
            col(Post.state) == PostState.PUBLISHING, col(Post.claimed_by).like(f"%:{pid}")
        )
        return [i for i in session.exec(query).all() if i is not None]


def test_sigterm_mid_run_releases_claims_and_the_other_worker_finishes_them(
    postgres_server_url: str, tmp_path: Path
) -> None:
    with office(postgres_server_url, tmp_path, _config()) as place:
        place.fake.latency = 0.2  # a call takes a while: a full pass outlasts the grace
        texts = []
        for n in range(POSTS):
            account = f"@{ACCOUNTS[n % len(ACCOUNTS)]}"
            texts.append(f"{account} notice {n}")
            place.approved(texts[-1], account=account, due_in=timedelta(seconds=2))
        ports = free_port(), free_port()
        first, second = (_serve(place, port) for port in ports)
        for port in ports:
            place.wait_until(partial(_ready, port), timeout=60, what=f"port {port} ready")
        place.wait_until(lambda: _published(place) >= 30, timeout=60, what="publishing under way")
        assert _published(place) < POSTS - 30, "too late to stop one mid-run"

        asked = time.monotonic()
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=GRACE + 10)
        took = time.monotonic() - asked
        print(f"\nSIGTERM to exit: {took:.2f} s with {_published(place)} of {POSTS} published")
        assert first.returncode == 0, place.worker_log()[-3000:]
        assert took < GRACE + 2, f"took {took:.1f} s to stop"
        assert _claims_of(place, first.pid) == [], "a claim outlived its worker"

        place.wait_until(
            lambda: _published(place) == POSTS, timeout=120, what="all posts published"
        )
        counts = place.fake.posts_by_text(include_deleted=True)
        assert {t: counts[t] for t in texts} == {t: 1 for t in texts}
        assert len(place.fake.posts) == POSTS
        with Session(place.engine) as session:
            by = session.exec(
                select(func.count()).where(
                    col(AuditEntry.action) == "post.published",
                    col(AuditEntry.details).like(f'%:{first.pid}"%'),
                )
            ).one()
            assert 0 < by < POSTS, "both workers published"
            assert audit.verify(session).ok
        assert second.poll() is None


def test_a_call_outlasting_the_grace_is_let_go_and_reconciled_by_the_other_worker(
    postgres_server_url: str, tmp_path: Path
) -> None:
    with office(postgres_server_url, tmp_path, _config()) as place:
        hold = place.fake.hold("POST", "/2/tweets", text="slow one")
        post = place.approved("slow one", account="@Acct1")
        port = free_port()
        # X takes its time (no timeout for 30 s): the call outlasts a grace of 1 s.
        first = _serve(place, port, PRESSGATE_SHUTDOWN_GRACE="1", PRESSGATE_X_TIMEOUT="30")
        held = hold.next(timeout=60)  # its call to X is on the wire
        hold.stop()
        place.wait_until(lambda: _ready(port), timeout=60, what="serving")

        asked = time.monotonic()
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=15)
        assert time.monotonic() - asked < 1 + 2
        assert "shutdown grace of 1.0s ran out" in place.worker_log()
        let_go = place.post(post.id)
        assert let_go.state == PostState.PUBLISHING and let_go.outcome_unknown

        held.let_through()  # the call lands after all, as one on the wire may
        _serve(place, free_port())
        place.wait_until(
            lambda: place.post(post.id).state == PostState.PUBLISHED,
            timeout=60,
            what="reconciled",
        )
        assert place.fake.posts_by_text(include_deleted=True)["slow one"] == 1
