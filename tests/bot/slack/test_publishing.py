"""Slack against the real publishing path: the dispatcher, real tweepy, the fake X. A
decision made with a button or a signed link is what lets a post out; `/pressgate pause`
holds the very next one back."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from approvals.clock import FrozenClock
from approvals.models import PostState
from approvals.posts import PartInput, edit
from approvals.signoff.review_links import LinkSigner
from bot.web.app import create_app
from tests.bot.publishing_world import SECRET, World, connect_account, x_settings
from tests.bot.slack.conftest import BOB, SAM, Slack, slack_settings
from tests.bot.slack.signoff_world import slack_config
from tests.bot.web.conftest import CSRF
from tests.factories import load_org
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.fake_x import FakeX

MINUTE = timedelta(minutes=1)


@pytest.fixture
def published_world(
    session: Session, engine: Engine, clock: FrozenClock, slack_fake: FakeSlack
) -> Iterator[tuple[World, Slack]]:
    """The world of the dispatcher tests (fake X, accounts connected) with Slack set up and
    the web app over the same database."""
    org = load_org(session, clock, slack_config())
    with FakeX(clock=clock.now) as fake:
        users = {name: fake.add_user(name) for name in ("DeptNews", "DeptHelp")}
        for name, user in users.items():
            connect_account(engine, clock, f"@{name}", user)
        url = engine.url.render_as_string(hide_password=False)
        settings = x_settings(fake, database_url=url)
        world = World(org=org, engine=engine, fake=fake, settings=settings, users=users)
        app = create_app(slack_settings(settings, slack_fake), clock=clock)
        with TestClient(app) as client:
            yield world, Slack(client, slack_fake, clock)
        app.state.engine.dispose()
    assert not fake.server_errors, fake.server_errors


def test_pause_from_slack_stops_the_very_next_due_post(
    published_world: tuple[World, Slack],
) -> None:
    world, slack = published_world
    help_post = world.approved("Self Assessment: 7 days left.", account="@DeptHelp")
    news_post = world.approved("Our annual report is out.", account="@DeptNews")
    slack.command(SAM, "pause @DeptHelp A wrong date in the next post")
    assert slack.fake.answers() == [
        "Paused publishing on @DeptHelp: nothing goes out there until it is resumed."
    ]

    world.clock.advance(MINUTE)
    world.run()
    assert world.on_x("DeptHelp") == [], "the paused account's next post stayed"
    assert world.on_x("DeptNews") == ["Our annual report is out."], "others carry on"
    assert world.post(help_post.id).state == PostState.QUEUED
    assert world.post(news_post.id).state == PostState.PUBLISHED

    slack.command(SAM, "resume @DeptHelp")
    world.run()
    assert world.on_x("DeptHelp") == ["Self Assessment: 7 days left."]


def test_approver_1_with_the_button_and_approver_2_with_the_signed_link(
    published_world: tuple[World, Slack],
) -> None:
    world, slack = published_world
    org = world.org
    post = org.submitted("Applications open on Monday.", account="@DeptNews", scheduled_in=MINUTE)
    assert post.id is not None
    first = {"id": post.id, "revision_hash": org.current_hash(post)}
    org.session.commit()  # on SQLite even a read holds the write lock until it ends

    slack.approve(BOB, first)  # approver 1, the first revision
    edit(
        org.session,
        actor=org.person("alice@example.org"),
        post_id=post.id,
        parts=[PartInput("Applications open on Tuesday.")],
        now=world.clock.now(),
    )
    second = {"id": post.id, "revision_hash": org.current_hash(post)}
    org.session.commit()

    slack.approve(BOB, first)  # the old message's button: refused
    slack.approve(BOB, second)  # approver 1 again, on the new words
    carol = org.person("carol@example.org")
    org.session.commit()
    assert carol.id is not None
    token = LinkSigner.from_secret(SECRET).issue(
        post_id=post.id,
        revision_hash=second["revision_hash"],
        approver_id=carol.id,
        now=world.clock.now(),
    )
    page = slack.client.get(f"/a/{token}")  # approver 2 opens the link in their DM…
    assert "Applications open on Tuesday." in page.text
    csrf = CSRF.search(page.text)
    assert csrf is not None
    decided = slack.client.post(  # …and approves on its page
        f"/a/{token}",
        data={"csrf_token": csrf.group(1), "decision": "approve"},
        follow_redirects=False,
    )
    assert decided.status_code == 303

    told = slack.fake.answers()
    assert told[0].endswith("1 of 2 approvals count.")
    assert told[1].startswith("Nothing was recorded: the words changed")
    assert (
        told[2]
        == f"You approved revision 2 of post {post.id} on @DeptNews: 1 of 2 approvals count."
    )
    assert world.post(post.id).state == PostState.QUEUED

    world.clock.advance(MINUTE)
    world.run()
    assert world.on_x("DeptNews") == ["Applications open on Tuesday."]
    actions = world.actions(post.id)
    assert actions.count("approval.approve") == 3
    assert actions[-2:] == ["post.publishing", "post.published"]
