"""Which buttons a page offers (`allowed_actions`) and who may see a post (`visible_to`).

The buttons restate the services' rules, so they are held to them: for every person, every
action and posts in every state, an action is offered exactly when its service, called for
real (in a savepoint rolled back afterwards), accepts it."""

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, select

from approvals import posts
from approvals.actions import ALL_ACTIONS, allowed_actions, visible_post, visible_to
from approvals.delivery import takedown
from approvals.delivery.publisher import OutgoingPart, TimelinePost
from approvals.errors import NotFound, PressgateError
from approvals.models import Person, Post, PostState, RevisionPart
from approvals.posts import PartInput
from approvals.records.audit import SYSTEM
from approvals.signoff import review
from approvals.workflow import move
from tests.factories import Org, small_config

PEOPLE = [
    "alice@example.org",  # officer, the author of every post here
    "erin@example.org",  # officer, not the author
    "bob@example.org",  # approver on both accounts
    "carol@example.org",  # approver on both accounts
    "dana@example.org",  # lead: manage and approve everywhere
    "sam@example.org",  # duty: takedown and pause everywhere
    "hana@example.org",  # approver on @DeptHelp only
]


class DeletedOnly:
    """A publisher for takedowns: it records what it was asked to delete."""

    sandbox = False

    def __init__(self) -> None:
        self.deleted: list[str] = []

    def create_post(self, part: OutgoingPart, *, reply_to: str | None) -> str:
        raise AssertionError("a takedown never posts")

    def delete_post(self, post_id: str) -> None:
        self.deleted.append(post_id)

    def recent_posts(self, *, since: datetime) -> list[TimelinePost]:
        return []


@pytest.fixture
def office(org: Org) -> Org:
    raw = small_config()
    raw["roles"]["duty"] = {"actions": ["pause", "takedown"], "accounts": ["*"]}
    raw["roles"]["help_approver"] = {"actions": ["approve"], "accounts": ["@DeptHelp"]}
    raw["people"] += [
        {"email": "sam@example.org", "roles": ["duty"]},
        {"email": "hana@example.org", "roles": ["help_approver"]},
    ]
    org.apply(raw)
    org.session.commit()
    return org


def posts_in_every_state(org: Org) -> dict[str, Post]:
    """One post per situation a page can meet, all written by Alice on @DeptNews."""
    soon = timedelta(days=1)
    found = {
        "draft": org.draft("A draft."),
        "submitted": org.submitted("Awaiting review."),
        "approved by bob": org.submitted("Half approved."),
        "queued": org.submitted("Fully approved.", scheduled_in=soon),
        "rejected": org.submitted("Will be rejected."),
        "withdrawn": org.draft("Will be withdrawn."),
        "published": org.submitted("Went out.", scheduled_in=soon),
    }
    org.approve(found["approved by bob"], "bob@example.org")
    org.approve(found["queued"], "bob@example.org", "carol@example.org")
    org.approve(found["published"], "bob@example.org", "carol@example.org")
    now = org.clock.now()
    rejected, withdrawn, published = found["rejected"], found["withdrawn"], found["published"]
    assert rejected.id and withdrawn.id and published.id
    review.reject(
        org.session,
        actor=org.person("bob@example.org"),
        post_id=rejected.id,
        revision_hash=org.current_hash(rejected),
        reason="No.",
        now=now,
    )
    alice = org.person("alice@example.org")
    posts.withdraw(org.session, actor=alice, post_id=withdrawn.id, now=now)
    move(org.session, published, PostState.PUBLISHING, actor=SYSTEM, now=now)
    part = org.session.exec(
        select(RevisionPart).where(RevisionPart.revision_id == _revision_id(org, published))
    ).one()
    part.x_post_id = "1900000000000000001"
    org.session.add(part)
    move(org.session, published, PostState.PUBLISHED, actor=SYSTEM, now=now)
    org.session.commit()
    return found


def _revision_id(org: Org, post: Post) -> int | None:
    return posts.current_revision(org.session, post).id


def attempt(org: Org, post: Post, me: Person) -> dict[str, Callable[[], object]]:
    """Each action as its service takes it, with input that is otherwise valid."""
    session, now, post_id = org.session, org.clock.now(), post.id
    assert post_id is not None
    current = org.current_hash(post)
    return {
        "edit": lambda: posts.edit(
            session, actor=me, post_id=post_id, parts=[PartInput("New words.")], now=now
        ),
        "submit": lambda: posts.submit(session, actor=me, post_id=post_id, now=now),
        "withdraw": lambda: posts.withdraw(session, actor=me, post_id=post_id, now=now),
        "schedule": lambda: posts.schedule(
            session, actor=me, post_id=post_id, when=now + timedelta(days=2), now=now
        ),
        "approve": lambda: review.approve(
            session, actor=me, post_id=post_id, revision_hash=current, now=now
        ),
        "reject": lambda: review.reject(
            session, actor=me, post_id=post_id, revision_hash=current, reason="No.", now=now
        ),
        "takedown": lambda: takedown.takedown(
            session, actor=me, post_id=post_id, publisher=DeletedOnly(), now=now, reason="Wrong."
        ),
    }


def accepted(session: Session, run: Callable[[], object]) -> bool:
    savepoint = session.begin_nested()
    try:
        run()
    except PressgateError:
        return False
    finally:
        savepoint.rollback()
    return True


def test_the_actions_offered_are_exactly_those_the_services_accept(office: Org) -> None:
    session = office.session
    disagreements = []
    for situation, post in posts_in_every_state(office).items():
        for email in PEOPLE:
            me = office.person(email)
            fresh = session.get(Post, post.id, populate_existing=True)
            assert fresh is not None
            offered = allowed_actions(session, fresh, me)
            for action, run in attempt(office, fresh, me).items():
                if (action in offered) != accepted(session, run):
                    disagreements.append((situation, email, action, action in offered))
    assert disagreements == []


def test_each_action_is_offered_to_someone_somewhere(office: Org) -> None:
    """The table above is not vacuous: every action is offered in some cell."""
    seen: set[str] = set()
    for post in posts_in_every_state(office).values():
        for email in PEOPLE:
            seen |= allowed_actions(office.session, post, office.person(email))
    assert seen == ALL_ACTIONS


def test_anyone_with_a_right_on_the_account_sees_the_post_and_nobody_else(office: Org) -> None:
    news = office.draft("On @DeptNews.")
    help_post = office.draft("On @DeptHelp.", account="@DeptHelp")
    session = office.session
    assert [e for e in PEOPLE if visible_to(session, news, e)] == [
        e for e in PEOPLE if e != "hana@example.org"
    ]
    assert all(visible_to(session, help_post, e) for e in PEOPLE)
    assert not visible_to(session, news, "stranger@example.org")


def test_a_post_one_may_not_see_is_not_found_like_a_missing_one(office: Org) -> None:
    news = office.draft("On @DeptNews.")
    assert news.id is not None
    with pytest.raises(NotFound) as hidden:
        visible_post(office.session, news.id, "hana@example.org")
    with pytest.raises(NotFound) as missing:
        visible_post(office.session, 999, "hana@example.org")
    with pytest.raises(NotFound):
        visible_post(office.session, 2**40, "alice@example.org")  # beyond any id: no query
    assert str(hidden.value) == f"post {news.id} was not found"
    assert str(missing.value) == "post 999 was not found"
