"""When X fails: retries honour rate limits, an unknown outcome is reconciled against the
timeline before any retry, a dead worker's half-sent thread is finished without repeats,
and permanent refusals stop with a reason. Runs on SQLite and on PostgreSQL."""

from datetime import timedelta

import pytest
import tweepy

from approvals.db import session_scope
from approvals.delivery.credentials import tokens_of
from approvals.delivery.outcomes import record_part
from approvals.delivery.publishing import claim_next
from approvals.delivery.takedown import takedown
from approvals.errors import PermissionDenied
from approvals.map_store import get_account, get_person
from approvals.models import PostState
from approvals.signoff.reminders import due_reminders
from bot.publishers import publisher_factory
from bot.x_transport import point_session_at
from tests.bot.publishing_world import SECRET, World, connect_account

MINUTE = timedelta(minutes=1)


def test_a_rate_limited_post_waits_for_the_reset_then_goes_out_once(world: World) -> None:
    post = world.approved("Rate limited")
    # X stamps the reset from the wall clock; the test's clock is a minute ahead of it.
    world.fake.fail_next("POST", "/2/tweets", "429", reset_in=120)
    world.clock.advance(MINUTE)
    world.run()
    waiting = world.post(post.id)
    assert waiting.state == PostState.FAILED and waiting.failure_retryable
    assert waiting.next_attempt_at is not None
    assert waiting.next_attempt_at >= world.clock.now() + timedelta(seconds=50)
    assert world.run() == 0, "the retry waits for X's reset"

    world.clock.advance(timedelta(minutes=3))
    world.run()
    assert world.on_x() == ["Rate limited"]
    assert world.actions(post.id)[-4:] == [
        "post.publishing",
        "post.failed",
        "post.publishing",
        "post.published",
    ]


@pytest.mark.parametrize("fault", ["timeout_after", "timeout_before", "500", "reset"])
def test_an_unknown_outcome_is_reconciled_before_any_retry(world: World, fault: str) -> None:
    world.fake.timeout_sleep = 1.0
    post = world.approved("Did it go out?")
    world.fake.fail_next("POST", "/2/tweets", fault)
    world.clock.advance(MINUTE)
    world.run()
    assert world.post(post.id).state == PostState.PUBLISHING
    assert world.post(post.id).outcome_unknown
    assert world.run() == 0, "nobody touches it until the settle time has passed"

    world.clock.advance(MINUTE)
    world.run()
    world.clock.advance(MINUTE)
    world.run()

    assert world.fake.posts_by_text(include_deleted=True) == {"Did it go out?": 1}
    assert world.post(post.id).state == PostState.PUBLISHED
    actions = world.actions(post.id)
    assert "post.outcome_unknown" in actions and "post.reconciled" in actions
    created = [r for r in world.fake.requests if r.method == "POST" and r.path == "/2/tweets"]
    assert len(created) == (1 if fault == "timeout_after" else 2)


def test_a_thread_left_half_sent_by_a_dead_worker_is_finished_without_repeats(
    world: World,
) -> None:
    post = world.approved("A 1/3", "A 2/3", "A 3/3")
    world.clock.advance(MINUTE)
    # A worker claims the thread, posts part 1 (recorded) and part 2 (not recorded), dies.
    with session_scope(world.engine) as session:
        account = get_account(session, "@DeptHelp")
        assert account.id is not None
        claim = claim_next(session, account_id=account.id, worker="doomed", now=world.clock.now())
        assert claim is not None and claim.post.id == post.id
        parts = [(p.id, p.text) for p in claim.parts]
    client = tweepy.Client(
        consumer_key=world.fake.consumer_key,
        consumer_secret=world.fake.consumer_secret,
        access_token=world.users["DeptHelp"].access_token,
        access_token_secret=world.users["DeptHelp"].access_token_secret,
    )
    point_session_at(client.session, world.fake.base_url, timeout=2)
    first = client.create_tweet(text=parts[0][1]).data["id"]
    with session_scope(world.engine) as session:
        record_part(
            session,
            post_id=post.id or 0,
            part_id=parts[0][0] or 0,
            x_post_id=first,
            token=claim.token,
            now=world.clock.now(),
            lease=timedelta(minutes=5),
        )
    client.create_tweet(text=parts[1][1], in_reply_to_tweet_id=first)

    assert world.run() == 0, "the dead worker's lease still stands"
    world.clock.advance(timedelta(minutes=6))
    world.run()
    world.clock.advance(timedelta(minutes=1))
    world.run()

    assert world.fake.posts_by_text() == {"A 1/3": 1, "A 2/3": 1, "A 3/3": 1}
    chain = sorted(world.fake.posts, key=lambda p: int(p.id))
    assert [p.reply_to for p in chain] == [None, chain[0].id, chain[1].id]
    assert world.post(post.id).state == PostState.PUBLISHED
    assert "post.reconciled" in world.actions(post.id)


def test_words_already_posted_long_ago_fail_as_duplicate(world: World) -> None:
    world.fake.seed_post(
        world.users["DeptHelp"],
        "Office closed today.",
        created_at=world.clock.now() - timedelta(days=3),
    )
    post = world.approved("Office closed today.")
    world.clock.advance(MINUTE)
    world.run()
    failed = world.post(post.id)
    assert failed.state == PostState.FAILED and failed.failure_retryable is False
    assert "duplicate" in (failed.state_reason or "")
    assert world.fake.posts_by_text() == {"Office closed today.": 1}


def test_an_expired_oauth2_token_is_refreshed_and_the_new_one_stored(world: World) -> None:
    user = world.users["DeptNews"]
    connect_account(world.engine, world.clock, "@DeptNews", user, oauth2=True)
    world.fake.expire_access_token(user)
    world.approved("Needs a fresh token", account="@DeptNews")
    world.clock.advance(MINUTE)
    world.run()
    assert world.on_x("DeptNews") == ["Needs a fresh token"]
    with session_scope(world.engine, read_only=True) as session:
        stored = tokens_of(session, get_account(session, "@DeptNews"), SECRET)
    assert stored is not None
    assert stored[1].access_token == world.fake_user_token("DeptNews")


def test_a_takedown_needs_the_right_and_deletes_every_part(world: World) -> None:
    post = world.approved("T 1/2", "T 2/2")
    world.clock.advance(MINUTE)
    world.run()
    assert post.id is not None
    publishers = publisher_factory(world.settings, world.engine, world.clock)
    with session_scope(world.engine) as session:
        account = get_account(session, "@DeptHelp")
        with pytest.raises(PermissionDenied):
            takedown(
                session,
                actor=get_person(session, "alice@example.org"),
                post_id=post.id,
                publisher=publishers(session, account),
                now=world.clock.now(),
                reason="mistake",
            )
    with session_scope(world.engine) as session:
        takedown(
            session,
            actor=get_person(session, "sam@example.org"),
            post_id=post.id,
            publisher=publishers(session, get_account(session, "@DeptHelp")),
            now=world.clock.now(),
            reason="Wrong date in the post",
        )
    assert world.on_x() == []
    assert world.post(post.id).state == PostState.TAKEN_DOWN
    assert world.actions(post.id)[-1] == "post.taken_down"


def test_a_post_due_within_the_hour_and_short_of_approvals_reminds_its_approvers(
    world: World,
) -> None:
    post = world.org.submitted("Due soon", account="@DeptNews", scheduled_in=timedelta(minutes=40))
    world.org.approve(post, "bob@example.org")
    world.org.session.commit()
    (reminder,) = due_reminders(world.engine, now=world.clock.now())
    assert reminder.post_id == post.id
    assert reminder.missing == 1
    assert reminder.approvers == ["carol@example.org", "dana@example.org"]
    assert due_reminders(world.engine, now=world.clock.now()) == [], "only once"
