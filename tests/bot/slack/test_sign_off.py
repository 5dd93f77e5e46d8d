"""Issue 16's "Done when", end to end: the officer submits, the channel and the approvers'
DMs get the request, approvers decide with the buttons (signed as Slack signs) and with a
signed link, the old messages say "superseded" after an edit, the post goes out through
the real dispatcher to the fake X, and its author gets the link on X in a DM."""

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from approvals.clock import FrozenClock
from approvals.db import session_scope
from approvals.delivery.takedown import takedown
from approvals.map_store import get_account, get_person
from approvals.models import PostState
from approvals.posts import PartInput, edit
from bot.publishers import publisher_factory
from tests.bot.slack.conftest import ALICE, BOB, CAROL
from tests.bot.slack.signoff_world import SignOff, signoff_config, signoff_world
from tests.bot.web.conftest import CSRF
from tests.fakes.fake_slack import Message

MINUTE = timedelta(minutes=1)


@pytest.fixture
def office(session: Session, engine: Engine, clock: FrozenClock) -> Iterator[SignOff]:
    with signoff_world(session, engine, clock) as world:
        yield world


def value_of(message: Message) -> str:
    """What the message's Approve button carries (`post_id:revision_hash`)."""
    for block in message.blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == "pressgate_approve":
                return str(element["value"])
    raise AssertionError("no Approve button")


def click_approve(office: SignOff, user: str, message: Message) -> None:
    answer = office.slack.click(user, "pressgate_approve", value_of(message))
    assert answer.status_code == 200


def test_submit_click_edit_supersede_button_and_link_publish_and_tell_the_author(
    office: SignOff,
) -> None:
    org = office.world.org
    post = org.submitted("Applications open on Monday.", account="@DeptNews", scheduled_in=MINUTE)
    assert post.id is not None
    first_hash = org.current_hash(post)
    org.session.commit()

    office.send()
    (request,) = office.channel()
    assert "Applications open on Monday." in request.words
    assert request.buttons == ["pressgate_approve", "pressgate_reject", "pressgate_review"]
    assert value_of(request) == f"{post.id}:{first_hash}"
    assert "0 of 2 count" in request.words and "alice@example.org" in request.words
    bob_dm, carol_dm = office.fake.in_channel(BOB), office.fake.in_channel(CAROL)
    assert len(bob_dm) == len(carol_dm) == 1, "each approver on Slack gets a DM"
    assert office.fake.in_channel(ALICE) == [], "the author is no approver of their post"
    assert "/a/1." in (carol_dm[0].url_of("pressgate_review") or ""), "a signed link of her own"

    old_value = value_of(request)
    click_approve(office, BOB, request)  # approver 1, in the channel
    assert office.slack.fake.answers()[-1].endswith("1 of 2 approvals count.")
    office.send()
    assert "Bob" in request.text or "bob@example.org" in request.text
    assert request.buttons, "still awaiting a second approval: the buttons stay"

    edit(
        org.session,
        actor=org.person("alice@example.org"),
        post_id=post.id,
        parts=[PartInput("Applications open on Tuesday.")],
        now=office.clock.now(),
    )
    org.session.commit()
    office.send()
    old_messages = [request, bob_dm[0], carol_dm[0]]
    for old in old_messages:
        assert old.text.startswith("Superseded by revision 2"), old.text
        assert old.buttons == [], "an old request decides nothing: its buttons are gone"
    new_request = office.channel()[-1]
    assert new_request is not request and "Applications open on Tuesday." in new_request.words

    office.slack.click(BOB, "pressgate_approve", old_value)  # a click that raced the update
    assert office.slack.fake.answers()[-1].startswith("Nothing was recorded: the words changed")
    click_approve(office, BOB, new_request)  # approver 1 again, on the new words
    link = office.fake.in_channel(CAROL)[-1].url_of("pressgate_review")
    assert link is not None and "/a/" in link
    path = link[link.index("/a/") :]
    page = office.slack.client.get(path)  # approver 2 opens the link in their DM…
    assert "Applications open on Tuesday." in page.text
    csrf = CSRF.search(page.text)
    assert csrf is not None
    decided = office.slack.client.post(  # …and approves on its page
        path, data={"csrf_token": csrf.group(1), "decision": "approve"}, follow_redirects=False
    )
    assert decided.status_code == 303
    assert office.world.post(post.id).state == PostState.QUEUED

    office.clock.advance(MINUTE)
    office.world.run()
    assert office.world.on_x("DeptNews") == ["Applications open on Tuesday."]
    office.send()
    (x_post,) = [p for p in office.world.fake.posts if not p.deleted]
    told = [m.text for m in office.fake.in_channel(ALICE)]
    assert any(f"https://x.com/DeptNews/status/{x_post.id}" in t for t in told), told
    assert any("approved revision 2" in t for t in told), "approvals are told to the author"
    assert new_request.buttons == [] and "Published" in new_request.text
    assert all(n.state == "sent" for n in office.notices() if n.kind != "update"), [
        (n.id, n.kind, n.state, n.last_error) for n in office.notices()
    ]


def test_a_rejection_tells_the_author_the_reason_and_closes_every_request(
    office: SignOff,
) -> None:
    org = office.world.org
    post = org.submitted("Applications open on Monday.", account="@DeptNews", scheduled_in=MINUTE)
    org.session.commit()
    office.send()
    (request,) = office.channel()
    office.slack.click(BOB, "pressgate_reject", value_of(request))
    (opened,) = office.fake.of("views.open")
    office.slack.submit_view(BOB, opened.body["view"], "The date is <wrong> & *bold*.")
    office.send()
    for message in [request, *office.fake.in_channel(BOB), *office.fake.in_channel(CAROL)]:
        assert message.buttons == [] and message.text.startswith("Rejected by"), message.text
    (told,) = [m.text for m in office.fake.in_channel(ALICE)]
    assert f"Your post {post.id} on @DeptNews" in told
    assert "The date is &lt;wrong&gt; &amp; *bold*." in told, "the reason, escaped for mrkdwn"


def test_pause_and_resume_are_told_to_the_duty_channel(office: SignOff) -> None:
    office.slack.command("U0SAM0001", "pause @DeptHelp A wrong date")
    office.slack.command("U0SAM0001", "resume @DeptHelp")
    office.send()
    told = [m.text for m in office.channel("#press-duty")]
    assert told == [
        "Publishing paused on @DeptHelp by sam@example.org: A wrong date",
        "Publishing resumed on @DeptHelp by sam@example.org",
    ]


def test_words_are_escaped_and_long_alt_texts_cut_with_a_marker(office: SignOff) -> None:
    org = office.world.org
    text = "Read <https://evil.example|this> & tell @channel *now*"
    post = org.submitted(text, account="@DeptNews", scheduled_in=MINUTE)
    org.session.commit()
    office.send()
    (request,) = office.channel()
    words = json.dumps(request.blocks)
    assert "&lt;https://evil.example|this&gt; &amp; tell @channel *now*" in words
    assert "<https://evil.example" not in words
    assert post.id is not None
    sections = [b["text"]["text"] for b in request.blocks if b["type"] == "section" and "text" in b]
    assert all(len(s) <= 3000 for s in sections)


def test_the_cut_marker_says_so_and_keeps_within_the_limit() -> None:
    from approvals.messaging.slack_text import CUT, cut

    long = "a &amp; b " * 500
    kept = cut(long, 3000)
    assert len(kept) == 3000 and kept.endswith(CUT)
    assert re.search(r"&a?m?p?$", kept[: -len(CUT)]) is None, "no half escape before the marker"


def test_the_author_is_told_of_a_failure_with_why_and_of_a_takedown_with_the_reason(
    office: SignOff,
) -> None:
    world = office.world
    raw = signoff_config()
    raw["accounts"].append({"handle": "@DeptJobs", "kind": "corporate"})  # never connected
    for role in ("officer", "approver"):
        raw["roles"][role]["accounts"].append("@DeptJobs")
    world.org.apply(raw)
    world.org.session.commit()
    failing = world.approved("Jobs fair", account="@DeptJobs")
    going = world.approved("Deadline today.", account="@DeptHelp")
    office.clock.advance(MINUTE)
    world.run()
    publishers = publisher_factory(world.settings, world.engine, office.clock)
    with session_scope(world.engine) as session:
        takedown(
            session,
            actor=get_person(session, "sam@example.org"),
            post_id=going.id or 0,
            publisher=publishers(session, get_account(session, "@DeptHelp")),
            now=office.clock.now(),
            reason="Wrong date in the post",
        )
    office.send()
    told = [m.text for m in office.fake.in_channel(ALICE)]
    assert any(
        t.startswith(f"Your post {failing.id} on @DeptJobs: Publishing failed:")
        and "@DeptJobs is not connected to X" in t
        for t in told
    ), told
    assert (
        f"Your post {going.id} on @DeptHelp: Taken down by sam@example.org: Wrong date in the post"
        in told
    )
