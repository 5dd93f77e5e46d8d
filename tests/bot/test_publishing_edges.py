"""Exactly once in the narrow cases a press office meets (invariant 4), through real worker
processes on PostgreSQL and the fake X: the same words twice on one account, a worker frozen
past its lease in the middle of a thread, reminders racing approvals, a run of crashes, and
an error nobody classified.
"""

import signal
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, func, select

from approvals.db import session_scope
from approvals.map_store import get_person
from approvals.models import (
    AuditEntry,
    Notice,
    Post,
    PostState,
    Revision,
    RevisionPart,
    StrayPost,
)
from approvals.records import audit
from approvals.signoff import review
from tests.bot.worker_processes import Office, office
from tests.factories import small_config

pytestmark = pytest.mark.postgres

WORDS = "Phone lines are open from nine to five today"


def _one_account(**account: Any) -> dict[str, Any]:
    raw = small_config()
    raw["accounts"] = [{"handle": "@DeptHelp", "kind": "corporate", **account}]
    for role in ("officer", "approver"):
        raw["roles"][role]["accounts"] = ["@DeptHelp"]
    return raw


def _settled(place: Office, *post_ids: int | None) -> bool:
    done = {PostState.PUBLISHED, PostState.FAILED}
    return all(
        (p := place.post(i)).state in done and not (p.failure_retryable or False) for i in post_ids
    )


def _x_ids(place: Office, post_id: int | None) -> list[str | None]:
    with Session(place.engine) as session:
        query = (
            select(RevisionPart.x_post_id)
            .join(Revision, col(Revision.id) == col(RevisionPart.revision_id))
            .where(Revision.post_id == post_id)
            .order_by(col(RevisionPart.position))
        )
        return list(session.exec(query).all())


def _actions(place: Office, post_id: int | None) -> list[str]:
    with Session(place.engine) as session:
        query = select(AuditEntry.action).where(AuditEntry.subject == f"post:{post_id}")
        return list(session.exec(query.order_by(col(AuditEntry.seq))).all())


# --- 1. the same words twice on one account --------------------------------------------------


@pytest.mark.parametrize("duplicate_check", [True, False], ids=["x-refuses", "x-accepts"])
@pytest.mark.parametrize("first_call", ["answered", "lost"])
def test_the_same_words_twice_never_share_one_post_on_x(
    postgres_server_url: str, tmp_path: Path, duplicate_check: bool, first_call: str
) -> None:
    """A recurring notice goes out twice, 20 s apart. If X takes the words again, both are
    published with their own ids; if X refuses them, the second fails with X's reason and
    advice to its author, and is never marked published with the first one's id. When the
    second call's answer is lost, the reconcile must not adopt the first post either."""
    with office(postgres_server_url, tmp_path, _one_account()) as place:
        place.fake.duplicate_check = duplicate_check
        first = place.approved(WORDS, account="@DeptHelp", due_in=timedelta(seconds=-20))
        second = place.approved(WORDS, account="@DeptHelp")
        if first_call == "lost":  # the first post goes through; the second's call is dropped
            hold = place.fake.hold("POST", "/2/tweets", text=WORDS)
        place.start_worker()
        if first_call == "lost":
            hold.next().let_through()
            lost = hold.next()
            hold.stop()
            lost.drop()
        place.wait_until(
            lambda: _settled(place, first.id, second.id), timeout=30, what="both settle"
        )

        on_x = [p for p in place.fake.posts if p.text == WORDS]
        first_ids, second_ids = _x_ids(place, first.id), _x_ids(place, second.id)
        assert place.post(first.id).state == PostState.PUBLISHED
        assert first_ids == [on_x[0].id]
        if duplicate_check:
            assert len(on_x) == 1
            refused = place.post(second.id)
            assert refused.state == PostState.FAILED and refused.failure_retryable is False
            assert second_ids == [None]
            reason = refused.state_reason or ""
            assert "duplicate content" in reason, reason  # X's own words
            assert "change the wording" in reason, reason
            told = f"Your post {second.id} on @DeptHelp: Publishing failed"  # the outbox's
            place.wait_until(lambda: told in place.worker_log(), timeout=30, what="author told")
        else:
            assert len(on_x) == 2
            assert place.post(second.id).state == PostState.PUBLISHED
            assert second_ids == [on_x[1].id] and second_ids != first_ids
        if first_call == "lost":
            assert "post.reconciled" in _actions(place, second.id)


def test_the_database_refuses_a_second_owner_for_a_post_on_x(
    postgres_server_url: str, tmp_path: Path
) -> None:
    """Not only a check in the code: a unique constraint holds invariant 4."""
    with office(postgres_server_url, tmp_path, _one_account()) as place:
        post = place.approved("One owner", account="@DeptHelp")
        other = place.approved("Another", account="@DeptHelp")
        place.start_worker()
        place.wait_until(lambda: _settled(place, post.id, other.id), timeout=30, what="published")
        (x_id,) = _x_ids(place, post.id)
        with pytest.raises(Exception, match="uq_revisionpart_x_post_id"), place.engine.begin() as c:
            c.execute(
                text(
                    "UPDATE revisionpart SET x_post_id = :x WHERE revision_id IN "
                    "(SELECT id FROM revision WHERE post_id = :p)"
                ),
                {"x": x_id, "p": other.id},
            )


# --- 2. a worker frozen past its lease in the middle of a thread --------------------------


@pytest.mark.parametrize("duplicate_check", [True, False], ids=["x-refuses", "x-accepts"])
def test_a_worker_frozen_past_its_lease_mid_thread_sends_nothing_more(
    postgres_server_url: str, tmp_path: Path, duplicate_check: bool
) -> None:
    """Worker A is SIGSTOPped while its call for part 2 is in flight; its lease runs out,
    worker B takes the thread over and finishes it. Then A's call lands and A wakes: it must
    not send part 3, must not touch the ids of record, and the copy of part 2 its call made
    (if X took it) is recorded as a stray, removed from X, and audited."""
    parts = [f"Storm update {k}/3: offices close at noon" for k in (1, 2, 3)]
    with office(postgres_server_url, tmp_path, _one_account()) as place:
        place.fake.duplicate_check = duplicate_check
        post = place.approved(*parts, account="@DeptHelp")
        hold = place.fake.hold("POST", "/2/tweets", text="2/3")
        worker_a = place.start_worker(PRESSGATE_DISPATCH_LEASE="2")
        held = hold.next(timeout=20)  # A's call for part 2 is on the wire
        worker_a.send_signal(signal.SIGSTOP)
        hold.stop()  # B's calls go straight through
        time.sleep(2.5)  # past A's lease
        place.start_worker(PRESSGATE_DISPATCH_LEASE="2")
        place.wait_until(lambda: _settled(place, post.id), timeout=30, what="B finishes the thread")
        of_record = _x_ids(place, post.id)

        held.let_through()  # A's call reaches X after all (or meets the duplicate rule)
        time.sleep(0.3)
        worker_a.send_signal(signal.SIGCONT)
        if not duplicate_check:
            place.wait_until(
                lambda: _stray_removed(place), timeout=20, what="A removes its stray copy"
            )
        time.sleep(2)  # A would have sent part 3 by now

        assert place.post(post.id).state == PostState.PUBLISHED
        assert _x_ids(place, post.id) == of_record, "the ids of record never change"
        live = [p for p in place.fake.posts if not p.deleted]
        assert sorted(p.text for p in live) == sorted(parts)
        by_id = {p.id: p for p in live}
        assert [by_id[i].text for i in of_record if i] == parts
        assert by_id[of_record[2] or ""].reply_to == of_record[1]
        assert place.fake.posts_by_text(include_deleted=True)[parts[2]] == 1, "A sent no part 3"
        actions = _actions(place, post.id)
        if duplicate_check:
            assert place.fake.posts_by_text(include_deleted=True)[parts[1]] == 1
            assert "post.stray_found" not in actions
        else:
            deleted = [p for p in place.fake.posts if p.deleted]
            assert [p.text for p in deleted] == [parts[1]]
            assert actions.count("post.stray_found") == actions.count("post.stray_removed") == 1
        with Session(place.engine) as session:
            assert audit.verify(session).ok


def test_a_healthy_worker_keeps_its_claim_through_a_call_longer_than_the_lease(
    postgres_server_url: str, tmp_path: Path
) -> None:
    """X takes 3 s to answer; the lease is 1.5 s. The worker renews its lease while it
    waits, so the second worker never takes the post over (no reconcile, one claim)."""
    slow = {"PRESSGATE_DISPATCH_LEASE": "1.5", "PRESSGATE_X_TIMEOUT": "6"}
    with office(postgres_server_url, tmp_path, _one_account(), **slow) as place:
        place.fake.latency = 3.0
        post = place.approved("Slow but healthy", account="@DeptHelp")
        place.start_worker()
        time.sleep(0.5)
        place.start_worker()
        place.wait_until(lambda: _settled(place, post.id), timeout=30, what="published")

        assert place.post(post.id).state == PostState.PUBLISHED
        actions = _actions(place, post.id)
        assert actions.count("post.publishing") == 1 and "post.reconciled" not in actions
        assert place.fake.posts_by_text() == {"Slow but healthy": 1}


def _stray_removed(place: Office) -> bool:
    with Session(place.engine) as session:
        rows = session.exec(select(StrayPost)).all()
        return bool(rows) and all(r.removed_at is not None for r in rows)


# --- 3. reminders and approvals in parallel ----------------------------------------------


def test_reminders_and_approvals_in_parallel_neither_deadlock_nor_repeat(
    postgres_server_url: str, tmp_path: Path
) -> None:
    """Three workers run the reminder job every 0.1 s while posts due within the hour are
    submitted and approved in parallel: no approval dies in a deadlock, and each post is
    reminded exactly once, by one worker."""
    raw = _one_account(approvals_required=3)  # two approvals leave each post short of quorum
    with office(postgres_server_url, tmp_path, raw, PRESSGATE_REMIND_INTERVAL="0.1") as place:
        for _ in range(3):
            place.start_worker()
        errors: list[str] = []
        submitted: list[int] = []
        stop = threading.Event()

        def officer() -> None:
            while not stop.is_set():
                with Session(place.engine, expire_on_commit=False) as session:
                    org = type(place.org)(session, place.org.clock)
                    batch = [
                        org.submitted(
                            f"Reminder race {len(submitted)}-{k}",
                            account="@DeptHelp",
                            scheduled_in=timedelta(minutes=40),
                        )
                        for k in range(4)
                    ]
                    session.commit()
                submitted.extend(p.id or 0 for p in batch)

        def approver(email: str) -> None:
            done: set[int] = set()
            while not stop.is_set() or len(done) < len(submitted):
                for post_id in [i for i in list(submitted) if i not in done]:
                    try:
                        with session_scope(place.engine) as session:
                            post = session.get(Post, post_id)
                            assert post is not None
                            revision = session.exec(
                                select(Revision).where(Revision.post_id == post_id)
                            ).one()
                            review.approve(
                                session,
                                actor=get_person(session, email),
                                post_id=post_id,
                                revision_hash=revision.content_hash,
                                now=place.clock.now(),
                            )
                    except Exception as error:
                        errors.append(f"{type(error).__name__}: {error}")
                    done.add(post_id)

        threads = [threading.Thread(target=officer)] + [
            threading.Thread(target=approver, args=(e,))
            for e in ("bob@example.org", "carol@example.org")
        ]
        for t in threads:
            t.start()
        # Race until enough posts went through, however loaded the machine is (at most 60 s).
        deadline = time.monotonic() + 60
        while len(submitted) < 40 and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        place.wait_until(
            lambda: _reminded(place) >= len(submitted), timeout=20, what="every post reminded"
        )
        place.wait_until(  # the outbox's sender logs them (no Slack here), one line each
            lambda: all(n.state == "sent" for p in submitted for n in _reminders(place, p)),
            timeout=30,
            what="every reminder sent",
        )

    assert errors == [], errors[:5]  # "deadlock detected" before the lock order was one
    assert len(submitted) >= 20, "the test must race enough posts"
    with Session(place.engine) as session:
        counts = session.exec(
            select(AuditEntry.subject, func.count())
            .where(AuditEntry.action == "post.reminder")
            .group_by(col(AuditEntry.subject))
        ).all()
    assert len(counts) == len(submitted)
    assert {n for _, n in counts} == {1}, "each post reminded once"
    log = place.worker_log()
    for post_id in submitted:
        asked = _reminders(place, post_id)
        assert asked, f"post {post_id} has reminders in the outbox"
        told = log.count(f"Reminder: post {post_id} on ")
        assert told == len(asked), f"post {post_id}: each reminder once in the logs"


def _reminders(place: Office, post_id: int) -> list[Notice]:
    with Session(place.engine) as session:
        query = select(Notice).where(
            Notice.post_id == post_id, col(Notice.text).startswith("Reminder: ")
        )
        return list(session.exec(query).all())


def _reminded(place: Office) -> int:
    with Session(place.engine) as session:
        query = select(func.count()).where(col(Post.reminded_at).is_not(None))
        return int(session.exec(query).one())


# --- 4. crashes are not attempts ----------------------------------------------------------


def test_a_run_of_worker_crashes_does_not_use_up_the_attempt_limit(
    postgres_server_url: str, tmp_path: Path
) -> None:
    """Ten workers in a row are SIGKILLed while their call for the same post is in flight,
    more than the default limit of 8 attempts; X never refused it, so it is published."""
    with office(postgres_server_url, tmp_path, _one_account()) as place:
        post = place.approved("Crash-proof notice", account="@DeptHelp")
        hold = place.fake.hold("POST", "/2/tweets")
        for _ in range(10):
            worker = place.start_worker(PRESSGATE_DISPATCH_LEASE="1")
            held = hold.next(timeout=30)
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            held.drop()  # the call never reached X
        hold.stop()
        place.start_worker(PRESSGATE_DISPATCH_LEASE="1")
        place.wait_until(lambda: _settled(place, post.id), timeout=30, what="the post settles")

        settled = place.post(post.id)
        assert settled.state == PostState.PUBLISHED, settled.state_reason
        assert settled.attempts == 0
        assert place.fake.posts_by_text() == {"Crash-proof notice": 1}
        assert _actions(place, post.id).count("post.publishing") >= 10


# --- 5. an error nobody classified ----------------------------------------------------------


def test_an_unclassified_error_lets_the_account_go_on_within_the_retry_time(
    postgres_server_url: str, tmp_path: Path
) -> None:
    """X answers a create with a success status and no post in it: tweepy's result cannot be
    read, an error pressgate does not classify. The claim is let go with a backoff (not the
    five-minute default lease), the post id is in the log, the post is reconciled and sent
    again, and the account's next post follows."""
    with office(postgres_server_url, tmp_path, _one_account()) as place:
        first = place.approved("Odd answer first", account="@DeptHelp")
        second = place.approved("Then the next one", account="@DeptHelp")
        place.fake.fail_next("POST", "/2/tweets", "no_data")
        started = time.monotonic()
        place.start_worker(PRESSGATE_DISPATCH_LEASE="300")
        place.wait_until(lambda: _settled(place, first.id, second.id), timeout=60, what="both out")
        took = time.monotonic() - started

        assert place.post(first.id).state == PostState.PUBLISHED
        assert place.post(second.id).state == PostState.PUBLISHED
        assert took < 30, f"held back {took:.0f} s: the lease, not the retry time"
        assert place.fake.posts_by_text() == {"Odd answer first": 1, "Then the next one": 1}
        log = place.worker_log()
        assert f"post {first.id}: unexpected error while publishing" in log
        assert "Traceback" in log  # logged whole for whoever investigates
        outcome = [a for a in _actions(place, first.id) if a == "post.outcome_unknown"]
        assert outcome, "recorded, to be reconciled before anything is sent again"
        assert place.post(first.id).attempts == 1
