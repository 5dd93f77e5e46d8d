"""`PRESSGATE_DISPATCH_CONCURRENCY` bounds the calls to X in flight, not the database work:
while a call is out, the dispatcher already claims the next account's post, so the slot for
X is taken again the moment it frees. And a claim is confirmed before a call once half its
lease has gone, so a worker frozen between claiming and calling sends nothing after a
takeover. Runs on SQLite and on PostgreSQL."""

import queue
import threading
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest

from approvals.db import session_scope
from approvals.delivery.outcomes import LostClaim
from approvals.delivery.publishing import claim_next
from approvals.map_store import get_account
from approvals.models import PostState
from bot.cli.common import App
from bot.jobs import DispatchPolicy
from bot.settings import Settings
from tests.bot.publishing_world import POLICY, World

MINUTE = timedelta(minutes=1)


def _until(condition: object, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def test_one_slot_for_x_keeps_one_call_out_while_the_next_post_is_claimed(world: World) -> None:
    help_post = world.approved("The helpline is open until six.", account="@DeptHelp")
    news_post = world.approved("The consultation opens today.", account="@DeptNews")
    world.clock.advance(MINUTE)
    hold = world.fake.hold("POST", "/2/tweets")
    one_slot = DispatchPolicy(
        concurrency=1, lease=POLICY.lease, settle_after=POLICY.settle_after, max_attempts=5
    )
    dispatcher = world.dispatcher(policy=one_slot)
    handled: list[int] = []
    running = threading.Thread(target=lambda: handled.append(dispatcher.run_once()))
    running.start()
    try:
        first = hold.next()
        _until(
            lambda: (
                world.post(help_post.id).state
                == world.post(news_post.id).state
                == PostState.PUBLISHING
            ),
            "both posts are claimed while the first call is out",
        )
        time.sleep(0.3)  # room for a second call, were the slot not taken
        with pytest.raises(queue.Empty):
            hold.arrivals.get_nowait()
        first.let_through()
        second = hold.next()  # the slot freed: the claimed post's call goes out at once
        second.let_through()
    finally:
        hold.stop()
        running.join(timeout=30)
    assert handled == [2]
    assert world.post(help_post.id).state == world.post(news_post.id).state == PostState.PUBLISHED
    assert sorted(world.on_x("DeptHelp") + world.on_x("DeptNews")) == [
        "The consultation opens today.",
        "The helpline is open until six.",
    ]


def test_a_worker_frozen_between_claiming_and_its_first_call_sends_nothing(
    world: World,
) -> None:
    world.approved("Storm warning: offices close at noon.")
    world.clock.advance(MINUTE)
    frozen = world.dispatcher("frozen")
    with session_scope(world.engine) as session:
        account_id = get_account(session, "@DeptHelp").id
    assert account_id is not None
    job = frozen._claim(account_id)
    assert job is not None

    world.clock.advance(POLICY.lease + MINUTE)  # frozen past its lease
    with session_scope(world.engine) as session:
        successor = claim_next(
            session, account_id=account_id, worker="successor", now=world.clock.now()
        )
    assert successor is not None and successor.reconcile

    with pytest.raises(LostClaim):
        frozen._run(job)  # wakes: the claim is old, so it asks, and learns it was taken
    assert world.fake.posts == []


def test_a_fresh_claim_goes_to_x_without_another_round_trip_to_renew_it(world: World) -> None:
    """Half a lease after the claim, the lease is renewed before the call; sooner, it is not:
    nobody else may take the post before the whole lease has run out."""
    post = world.approved("Road closures this weekend.")
    world.clock.advance(MINUTE)
    dispatcher = world.dispatcher()
    with session_scope(world.engine) as session:
        account_id = get_account(session, "@DeptHelp").id
    assert account_id is not None
    job = dispatcher._claim(account_id)
    assert job is not None
    claimed_until = world.post(post.id).lease_until

    dispatcher.record.renew(job)  # at once: nothing to confirm
    assert world.post(post.id).lease_until == claimed_until
    world.clock.advance(POLICY.lease / 2)
    dispatcher.record.renew(job)  # half a lease on: confirmed and extended
    assert world.post(post.id).lease_until == claimed_until + POLICY.lease / 2


def test_a_worker_at_the_highest_concurrency_has_a_connection_for_each_account_it_works_on(
    tmp_path: Path,
) -> None:
    """Two accounts per slot for X, each with a database connection while it is worked on,
    beside the sender's and the web app's: the pool must not make drainers wait for one."""
    database = tmp_path / "pressgate.db"
    database.touch()
    settings = Settings(database_url=f"sqlite:///{database}", dispatch_concurrency=64)
    engine = App.of(settings).engine
    with ExitStack() as held:
        for _ in range(2 * 64 + 4):
            held.enter_context(engine.connect())
    engine.dispose()
