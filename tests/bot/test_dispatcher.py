"""Publishing through real tweepy to the fake X API: single posts, threads, images, and
everything that must stop or delay a post. Runs on SQLite and on PostgreSQL."""

import hashlib
from datetime import timedelta

import pytest

from approvals.content.images import check_image
from approvals.delivery import controls
from approvals.errors import Refused
from approvals.models import PostState
from approvals.posts import MediaRef, PartInput, create_draft, store_media, submit
from tests.bot.publishing_world import World, publishing_config
from tests.image_files import image_bytes

MINUTE = timedelta(minutes=1)


def test_an_approved_post_goes_out_once_at_its_time(world: World) -> None:
    post = world.approved("Applications for the autumn grants open today.")
    assert world.run() == 0, "not due yet"
    assert world.on_x() == []

    world.clock.advance(MINUTE)
    assert world.run() == 1
    assert world.run() == 0

    assert world.on_x() == ["Applications for the autumn grants open today."]
    published = world.post(post.id)
    assert published.state == PostState.PUBLISHED
    assert published.sandbox is False
    assert world.actions(post.id)[-2:] == ["post.publishing", "post.published"]
    assert ("alice@example.org", post.id, "published") in world.notifier.sent


def test_a_thread_goes_out_as_a_reply_chain_in_order(world: World) -> None:
    world.approved("1/3 Our new guidance.", "2/3 Who it affects.", "3/3 What to do next.")
    world.clock.advance(MINUTE)
    world.run()
    posts = sorted(world.fake.posts, key=lambda p: int(p.id))
    assert [p.text for p in posts] == [
        "1/3 Our new guidance.",
        "2/3 Who it affects.",
        "3/3 What to do next.",
    ]
    assert [p.reply_to for p in posts] == [None, posts[0].id, posts[1].id]


def test_an_image_goes_up_with_its_alt_text(world: World) -> None:
    org, now = world.org, world.clock.now()
    data = image_bytes()
    asset = store_media(org.session, image=check_image(data, name="office.png"), now=now)
    post = create_draft(
        org.session,
        actor=org.person("alice@example.org"),
        account_handle="@DeptHelp",
        parts=[PartInput("Our new office.", [MediaRef(asset.sha256, "A red-brick building")])],
        now=now,
        scheduled_at=now + MINUTE,
    )
    assert post.id is not None
    submit(org.session, actor=org.person("alice@example.org"), post_id=post.id, now=now)
    org.approve(post, "bob@example.org")
    org.session.commit()

    world.clock.advance(MINUTE)
    world.run()

    (media,) = world.fake.media
    assert media.sha256 == hashlib.sha256(data).hexdigest()
    assert media.alt_text == "A red-brick building"
    (on_x,) = world.fake.posts
    assert on_x.media_ids == [media.id]


def test_posts_for_one_account_leave_in_scheduled_order(world: World) -> None:
    world.fake.latency = 0.05
    for n in range(4):
        world.approved(f"News item {n}", account="@DeptNews")
        world.approved(f"Help item {n}")
        world.clock.advance(timedelta(seconds=1))
    world.clock.advance(MINUTE)
    assert world.run() == 8
    assert world.on_x("DeptNews") == [f"News item {n}" for n in range(4)]
    assert world.on_x("DeptHelp") == [f"Help item {n}" for n in range(4)]


def test_nothing_goes_out_while_the_account_or_everything_is_paused(world: World) -> None:
    post = world.approved("Paused post")
    sam = world.org.person("sam@example.org")
    controls.pause(world.org.session, actor=sam, now=world.clock.now(), account_handle="@DeptHelp")
    controls.pause(world.org.session, actor=sam, now=world.clock.now(), reason="crisis")
    world.org.session.commit()
    world.clock.advance(MINUTE)
    assert world.run() == 0

    controls.resume(world.org.session, actor=sam, now=world.clock.now(), account_handle="@DeptHelp")
    world.org.session.commit()
    assert world.run() == 0, "still paused everywhere"
    controls.resume(world.org.session, actor=sam, now=world.clock.now())
    world.org.session.commit()
    assert world.run() == 0, "one person asked to resume everything: still paused"
    lee = world.org.person("lee@example.org")
    controls.resume(world.org.session, actor=lee, now=world.clock.now())
    world.org.session.commit()
    assert world.run() == 1
    assert world.on_x() == ["Paused post"]
    assert world.post(post.id).state == PostState.PUBLISHED


def test_nothing_goes_out_inside_a_blackout_window(world: World) -> None:
    now = world.clock.now()
    window = {
        "name": "Pre-election period",
        "start": (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
        "end": (now + timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M"),
        "timezone": "UTC",
        "accounts": ["@DeptHelp"],
    }
    world.org.apply(publishing_config(blackouts=[window]))
    world.org.session.commit()
    world.approved("During the blackout")
    world.clock.advance(MINUTE)
    assert world.run() == 0
    world.clock.advance(timedelta(minutes=40))
    assert world.run() == 1
    assert world.on_x() == ["During the blackout"]


def test_a_post_whose_approver_lost_the_right_goes_back_to_review(world: World) -> None:
    post = world.approved("Needs bob")
    raw = publishing_config()
    bob = next(p for p in raw["people"] if p["email"] == "bob@example.org")
    bob["roles"] = []
    world.org.apply(raw)
    world.org.session.commit()
    world.clock.advance(MINUTE)
    assert world.run() == 0
    assert world.on_x() == []
    assert world.post(post.id).state == PostState.SUBMITTED


def test_an_unconnected_account_fails_with_a_reason_and_tells_the_author(world: World) -> None:
    raw = publishing_config()
    raw["accounts"].append({"handle": "@DeptJobs", "kind": "corporate"})
    raw["roles"]["officer"]["accounts"].append("@DeptJobs")
    raw["roles"]["approver"]["accounts"].append("@DeptJobs")
    world.org.apply(raw)
    world.org.session.commit()
    post = world.approved("Jobs fair", account="@DeptJobs")
    world.clock.advance(MINUTE)
    world.run()
    failed = world.post(post.id)
    assert failed.state == PostState.FAILED and failed.failure_retryable is False
    assert "@DeptJobs is not connected to X" in (failed.state_reason or "")
    assert ("alice@example.org", post.id, "failed") in world.notifier.sent


def test_the_sandbox_asked_for_records_and_nothing_reaches_x(world: World) -> None:
    world.settings = world.settings.model_copy(
        update={
            "x_consumer_key": None,
            "x_consumer_secret": None,
            "x_client_id": None,
            "sandbox": True,
        }
    )
    post = world.approved("Sandbox only")
    world.clock.advance(MINUTE)
    world.run()
    assert world.fake.posts == []
    published = world.post(post.id)
    assert published.state == PostState.PUBLISHED and published.sandbox


def test_without_x_credentials_nothing_is_published_not_even_to_the_sandbox(
    world: World,
) -> None:
    world.settings = world.settings.model_copy(
        update={"x_consumer_key": None, "x_consumer_secret": None, "x_client_id": None}
    )
    post = world.approved("Needs X")
    world.clock.advance(MINUTE)
    with pytest.raises(Refused, match="PRESSGATE_SANDBOX=1"):
        world.run()
    assert world.fake.posts == []
    assert world.post(post.id).state == PostState.QUEUED
