"""Fencing and stray copies (invariant 4), in-process on SQLite and PostgreSQL: a worker whose
claim was taken over records nothing; a copy it still got onto X is written down as a stray,
deleted from X and shown on the post; no reconcile adopts a stray or a post it does not own;
an id of record never changes. (`test_publishing_edges` does the same with frozen processes.)
"""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from approvals.db import session_scope
from approvals.delivery import outcomes
from approvals.delivery.outcomes import IdTaken, LostClaim
from approvals.delivery.publishing import Claim, claim_next
from approvals.map_store import get_account
from approvals.models import Post, PostState, StrayPost
from approvals.summary import PostView, post_view
from bot.publishers import publisher_factory
from bot.stray_copies import StrayCopies
from tests.bot.publishing_world import World

MINUTE = timedelta(minutes=1)


def _claim(world: World, worker: str, lease: timedelta = MINUTE) -> Claim:
    with session_scope(world.engine) as session:
        account = get_account(session, "@DeptHelp")
        assert account.id is not None
        claim = claim_next(
            session, account_id=account.id, worker=worker, now=world.clock.now(), lease=lease
        )
        assert claim is not None and claim.claimed
        return claim


def _taken_over(world: World) -> tuple[Claim, Claim]:
    """A thread claimed by a worker that then froze past its lease, and taken over."""
    world.approved("Fenced 1/2", "Fenced 2/2")
    world.clock.advance(MINUTE)
    frozen = _claim(world, "frozen")
    world.clock.advance(2 * MINUTE)
    successor = _claim(world, "successor")
    assert successor.reconcile and successor.token == frozen.token + 1
    return frozen, successor


def test_a_worker_whose_claim_was_taken_over_can_record_nothing(world: World) -> None:
    frozen, _ = _taken_over(world)
    post_id, part = frozen.post.id or 0, frozen.parts[0]
    now, lease = world.clock.now(), MINUTE
    before = world.post(post_id)
    with session_scope(world.engine) as session:
        with pytest.raises(LostClaim):
            outcomes.renew(session, post_id=post_id, token=frozen.token, now=now, lease=lease)
        with pytest.raises(LostClaim):
            outcomes.record_part(
                session,
                post_id=post_id,
                part_id=part.id or 0,
                x_post_id="1234",
                token=frozen.token,
                now=now,
                lease=lease,
            )
        with pytest.raises(LostClaim):
            outcomes.mark_published(
                session,
                post_id=post_id,
                token=frozen.token,
                worker="frozen",
                now=now,
                sandbox=False,
                via="x",
            )
    after = world.post(post_id)
    assert after.state == PostState.PUBLISHING and after.claimed_by == "successor"
    assert after.lease_until == before.lease_until
    assert post_view_of(world, post_id).parts[0].x_post_id is None


def test_an_id_of_record_never_changes(world: World) -> None:
    world.approved("Once 1/1")
    world.clock.advance(MINUTE)
    claim = _claim(world, "w")
    args = {"post_id": claim.post.id or 0, "part_id": claim.parts[0].id or 0, "token": claim.token}
    with session_scope(world.engine) as session:
        outcomes.record_part(session, x_post_id="111", now=world.clock.now(), lease=MINUTE, **args)
    with session_scope(world.engine) as session, pytest.raises(IdTaken):
        outcomes.record_part(session, x_post_id="222", now=world.clock.now(), lease=MINUTE, **args)
    assert post_view_of(world, claim.post.id).parts[0].x_post_id == "111"


def test_a_copy_made_under_a_lost_claim_is_a_stray_removed_from_x_and_shown(
    world: World,
) -> None:
    frozen, _ = _taken_over(world)
    post_id = frozen.post.id or 0
    # The frozen worker's call for part 1 lands on X after the takeover.
    copy = world.fake.seed_post(world.users["DeptHelp"], "Fenced 1/2")
    strays = StrayCopies(
        engine=world.engine,
        publishers=publisher_factory(world.settings, world.engine, world.clock),
        clock=world.clock,
        worker="frozen",
    )
    with Session(world.engine) as session:
        publisher = publisher_factory(world.settings, world.engine, world.clock)(
            session, get_account(session, "@DeptHelp")
        )
    strays.found(post_id=post_id, position=0, x_id=copy.id, publisher=publisher)

    assert [p.deleted for p in world.fake.posts if p.id == copy.id] == [True]
    view = post_view_of(world, post_id)
    assert [(s.x_post_id, s.removed_at is not None) for s in view.strays] == [(copy.id, True)]
    assert view.parts[0].x_post_id is None, "a stray is never an id of record"
    actions = world.actions(post_id)
    assert actions[-2:] == ["post.stray_found", "post.stray_removed"]
    strays.found(post_id=post_id, position=0, x_id=copy.id, publisher=publisher)
    assert world.actions(post_id) == actions, "written down once"


def test_a_stray_x_would_not_delete_is_removed_by_the_next_pass(world: World) -> None:
    frozen, _ = _taken_over(world)
    post_id = frozen.post.id or 0
    copy = world.fake.seed_post(world.users["DeptHelp"], "Fenced 1/2")
    world.fake.fail_next("DELETE", "/2/tweets/", "503")
    publishers = publisher_factory(world.settings, world.engine, world.clock)
    strays = StrayCopies(
        engine=world.engine, publishers=publishers, clock=world.clock, worker="frozen"
    )
    with Session(world.engine) as session:
        publisher = publishers(session, get_account(session, "@DeptHelp"))
    strays.found(post_id=post_id, position=0, x_id=copy.id, publisher=publisher)
    with Session(world.engine) as session:
        (row,) = session.exec(select(StrayPost)).all()
        assert row.removed_at is None and "503" in (row.last_error or "")

    world.run()
    assert [p.deleted for p in world.fake.posts if p.id == copy.id] == [True]
    assert world.actions(post_id).count("post.stray_removed") == 1


def test_a_reconcile_adopts_neither_a_stray_nor_another_posts_id(world: World) -> None:
    """After a lost answer, the timeline holds the same words three times: another post's
    (owned), a stray copy, and none of this post's own. Nothing is adopted: it is sent."""
    world.fake.duplicate_check = False
    earlier = world.approved("Phone lines open 9 to 5")
    world.clock.advance(MINUTE)
    world.run()
    assert world.post(earlier.id).state == PostState.PUBLISHED

    post = world.approved("Phone lines open 9 to 5")
    world.fake.fail_next("POST", "/2/tweets", "timeout_before")
    world.fake.timeout_sleep = 0.2
    world.clock.advance(MINUTE)
    world.run()
    assert world.post(post.id).outcome_unknown
    stray = world.fake.seed_post(world.users["DeptHelp"], "Phone lines open 9 to 5")
    with session_scope(world.engine) as session:
        session.add(
            StrayPost(
                post_id=post.id or 0,
                account_id=world.post(post.id).account_id,
                position=0,
                x_post_id=stray.id,
                found_by="test",
                found_at=world.clock.now(),
            )
        )
    world.fake.fail_next("DELETE", "/2/tweets/", "503", times=1)  # the stray stays a while
    for _ in range(4):
        world.clock.advance(MINUTE)
        world.run()

    published = world.post(post.id)
    assert published.state == PostState.PUBLISHED
    own = post_view_of(world, post.id).parts[0].x_post_id
    assert own not in {stray.id, post_view_of(world, earlier.id).parts[0].x_post_id}
    assert "post.reconciled" in world.actions(post.id)


def test_the_same_words_posted_outside_pressgate_just_before_are_not_adopted(
    world: World,
) -> None:
    """Someone posted the words by hand a minute before pressgate's first attempt: X refuses
    pressgate's copy as a duplicate, and the post fails with advice, adopting nothing."""
    post = world.approved("Office closed today.")
    world.clock.advance(MINUTE)
    world.fake.seed_post(
        world.users["DeptHelp"], "Office closed today.", created_at=world.clock.now() - MINUTE
    )
    world.run()
    failed = world.post(post.id)
    assert failed.state == PostState.FAILED and failed.failure_retryable is False
    assert "change the wording" in (failed.state_reason or "")
    assert post_view_of(world, post.id).parts[0].x_post_id is None
    ((event, message),) = [(e, m) for i, e, m in world.notifier.messages if i == post.id]
    assert event == "failed" and "change the wording" in message


def post_view_of(world: World, post_id: int | None) -> PostView:
    with Session(world.engine) as session:
        post = session.get(Post, post_id)
        assert post is not None
        return post_view(session, post)
