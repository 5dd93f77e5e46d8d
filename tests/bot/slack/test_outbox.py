"""The outbox against a Slack that fails: every notice is written with its change, and
arrives exactly once after an outage of 500s and 429s (whose Retry-After is honoured);
without Slack set up, every notice is one line in the log."""

import logging
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from approvals.clock import FrozenClock
from approvals.messaging import outbox
from bot.slack.sender import Sender
from bot.worker import Worker
from tests.bot.slack.conftest import BOB, SAM
from tests.bot.slack.signoff_world import SignOff, signoff_world

SECONDS = timedelta(seconds=1)
LEASE = timedelta(seconds=60)  # what the sender takes (4 x the Slack timeout, at least 60 s)
RETRY_AFTER = 50  # longer than the backoff would wait: only honouring it passes


@pytest.fixture
def office(session: Session, engine: Engine, clock: FrozenClock) -> Iterator[SignOff]:
    with signoff_world(session, engine, clock) as world:
        yield world


def events_during_the_outage(office: SignOff) -> None:
    """A request (channel and two DMs), a pause and a resume, a click and what it updates."""
    org = office.world.org
    post = org.submitted(
        "Applications open on Monday.", account="@DeptNews", scheduled_in=timedelta(hours=2)
    )
    assert post.id is not None
    value = f"{post.id}:{org.current_hash(post)}"
    org.session.commit()
    office.slack.command(SAM, "pause @DeptHelp A wrong date")
    office.slack.command(SAM, "resume @DeptHelp")
    office.slack.click(BOB, "pressgate_approve", value)


def test_after_a_minute_of_500_and_429_every_notice_arrives_exactly_once(
    office: SignOff,
) -> None:
    start = office.clock.now()
    office.fake.fail(start + 30 * SECONDS, status=500)
    events_during_the_outage(office)
    for _ in range(60):  # five minutes, a pass every 5 seconds as the worker runs it
        office.send()
        office.clock.advance(5 * SECONDS)
        if office.clock.now() == start + 30 * SECONDS:
            office.fake.rate_limit(start + 60 * SECONDS, retry_after=RETRY_AFTER)

    calls = [c for c in office.fake.calls if c.method != "response"]
    assert any(c.status == 500 for c in calls) and any(c.status == 429 for c in calls)
    notices = office.notices()
    assert [n.state for n in notices] == ["sent"] * len(notices), [
        (n.id, n.kind, n.state, n.last_error) for n in notices
    ]
    posted = office.fake.of("chat.postMessage", ok=True)
    assert len(posted) == len([n for n in notices if n.kind != "update" and n.channel])
    twice = [
        k for k, n in Counter((c.body["channel"], c.body["text"]) for c in posted).items() if n > 1
    ]
    assert twice == [], "nothing sent twice"
    assert len(office.fake.of("chat.update", ok=True)) == len(
        [n for n in notices if n.kind == "update"]
    )
    assert [m.text for m in office.channel("#press-duty")] == [
        "Publishing paused on @DeptHelp by sam@example.org: A wrong date",
        "Publishing resumed on @DeptHelp by sam@example.org",
    ], "in order, once each"
    for limited in (c for c in calls if c.status == 429):
        assert limited.at is not None
        sooner = [
            c for c in calls if c.at and limited.at < c.at < limited.at + RETRY_AFTER * SECONDS
        ]
        assert sooner == [], "nothing is sent before Retry-After has passed"


def test_a_notice_slack_refuses_for_itself_is_given_up_and_holds_nothing_else_back(
    office: SignOff,
) -> None:
    office.fake.unknown_channels.add("#press-duty")
    office.slack.command(SAM, "pause @DeptHelp A wrong date")
    for _ in range(12):
        office.send()
        office.clock.advance(timedelta(minutes=5))
    (pause,) = office.notices()
    assert pause.state == "failed" and pause.last_error == "channel_not_found"
    assert pause.attempts == 5
    org = office.world.org
    org.submitted("Applications open on Monday.", account="@DeptNews")
    org.session.commit()
    office.send()
    assert len(office.channel()) == 1


def test_without_slack_every_notice_is_one_line_in_the_log_with_the_dms_link(
    office: SignOff, caplog: pytest.LogCaptureFixture
) -> None:
    settings = office.world.settings.model_copy(update={"slack_bot_token": None})
    sender = Sender(settings=settings, engine=office.world.engine, clock=office.clock, worker="w")
    org = office.world.org
    post = org.submitted("Applications open on Monday.", account="@DeptNews")
    org.session.commit()
    caplog.set_level(logging.INFO, logger="pressgate.slack.outbox")
    assert sender.run_once() == 3
    lines = [r.getMessage() for r in caplog.records if r.name == "pressgate.slack.outbox"]
    assert len(lines) == 3 and all("\n" not in line for line in lines)
    assert f"Approval request: post {post.id} on @DeptNews" in lines[0]
    assert "/a/1." in lines[1] and "/a/1." in lines[2], "each DM's own signed link"
    assert office.fake.calls == []
    assert {n.state for n in office.notices()} == {"sent"}


def test_a_weak_secret_key_sends_the_review_page_not_a_signed_link(office: SignOff) -> None:
    settings = office.world.settings.model_copy(update={"secret_key": SecretStr("")})
    sender = Sender(settings=settings, engine=office.world.engine, clock=office.clock, worker="w")
    org = office.world.org
    post = org.submitted("Applications open on Monday.", account="@DeptNews")
    org.session.commit()
    sender.run_once()
    link = office.fake.in_channel(BOB)[0].url_of("pressgate_review")
    assert link == f"{settings.base_url}/posts/{post.id}/review"


def test_the_worker_runs_the_sender_on_its_interval(office: SignOff) -> None:
    settings = office.world.settings.model_copy(update={"notice_interval": 2.0})
    worker = Worker(settings=settings, engine=office.world.engine, clock=office.clock)
    org = office.world.org
    org.submitted("Applications open on Monday.", account="@DeptNews")
    org.session.commit()
    worker.start()
    try:
        job = worker.scheduler.get_job("notices")
        assert job is not None and job.trigger.interval == timedelta(seconds=2)
        job.func()  # what the scheduler runs; no waiting on its clock
    finally:
        worker.stop()
    assert len(office.channel()) == 1
    assert {n.state for n in office.notices()} == {"sent"}


def test_a_worker_that_dies_holding_a_claim_delays_the_notice_by_its_lease_only(
    office: SignOff,
) -> None:
    office.slack.command(SAM, "pause @DeptHelp A wrong date")
    (pause,) = office.notices()
    assert pause.id is not None
    with Session(office.world.engine) as session:  # w0 claims it, then dies before sending
        assert outbox.claim(session, pause.id, worker="w0", now=office.clock.now(), lease=LEASE)
        session.commit()
    assert office.send() == 0, "held by w0's claim"
    office.clock.advance(LEASE)
    assert office.send() == 1
    assert office.send() == 0
    assert [m.text for m in office.channel("#press-duty")] == [
        "Publishing paused on @DeptHelp by sam@example.org: A wrong date"
    ]


def test_without_slack_two_senders_at_once_log_each_notice_exactly_once(
    office: SignOff, caplog: pytest.LogCaptureFixture
) -> None:
    """Without a bot token notices are claimed, logged and recorded a batch at a time; two
    workers doing so side by side skip each other's batches, so nothing is logged twice."""
    settings = office.world.settings.model_copy(update={"slack_bot_token": None})
    org = office.world.org
    for n in range(40):
        org.submitted(f"Consultation update {n}: responses close on Friday.", account="@DeptNews")
    org.session.commit()
    expected = {n.id for n in office.notices()}
    assert len(expected) == 120, "a channel request and two DMs per post"
    caplog.set_level(logging.INFO, logger="pressgate.slack.outbox")
    senders = [
        Sender(settings=settings, engine=office.world.engine, clock=office.clock, worker=w)
        for w in ("w1", "w2")
    ]
    with ThreadPoolExecutor(2) as pool:
        delivered = list(pool.map(lambda s: s.run_once(limit=1000), senders))

    logged = Counter(
        int(r.getMessage().split()[2]) for r in caplog.records if r.name == "pressgate.slack.outbox"
    )
    assert set(logged) == expected and set(logged.values()) == {1}, "each once"
    assert sum(delivered) == 120
    assert {n.state for n in office.notices()} == {"sent"}


def test_without_slack_a_batch_is_recorded_without_reading_each_notice_again(
    office: SignOff, caplog: pytest.LogCaptureFixture
) -> None:
    """The batch's rows are locked by its own claim: logging 60 notices takes no more
    statements than logging 3 (it took one locking read and one update more per notice)."""
    settings = office.world.settings.model_copy(update={"slack_bot_token": None})
    sender = Sender(settings=settings, engine=office.world.engine, clock=office.clock, worker="w")
    caplog.set_level(logging.INFO, logger="pressgate.slack.outbox")
    statements: list[str] = []
    counts = []

    def seen(*args: object) -> None:
        statements.append(str(args[2]))

    for posts in (1, 20):
        for n in range(posts):
            office.world.org.submitted(f"Update {posts}-{n}: out on Friday.", account="@DeptNews")
        office.world.org.session.commit()
        event.listen(office.world.engine, "before_cursor_execute", seen)
        try:
            assert sender.run_once(limit=1000) == 3 * posts
        finally:
            event.remove(office.world.engine, "before_cursor_execute", seen)
        counts.append(len(statements))
        statements.clear()
    assert counts[1] <= counts[0] + 2, counts
    assert {n.state for n in office.notices()} == {"sent"}
