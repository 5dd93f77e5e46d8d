"""The post lifecycle and the approval rules (DESIGN invariants 1 and 2), on SQLite and
PostgreSQL."""

from datetime import timedelta

import pytest
from sqlmodel import select

from approvals import posts
from approvals.delivery.publishing import start_publishing
from approvals.errors import (
    IllegalTransition,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Refused,
    StaleRevision,
)
from approvals.map_store import current_map
from approvals.models import Approval, PostState
from approvals.posts import PartInput
from approvals.signoff import review
from tests.factories import Org, small_config


def test_a_draft_starts_at_revision_one_with_a_content_hash(org: Org) -> None:
    post = org.draft("Hello from the department")
    assert post.state == PostState.DRAFT
    revision = posts.current_revision(org.session, post)
    assert revision.number == 1
    assert len(revision.content_hash) == 64


def test_the_content_hash_covers_account_text_media_and_alt_text() -> None:
    base = posts.content_hash("deptnews", [PartInput("a")])
    assert posts.content_hash("depthelp", [PartInput("a")]) != base
    assert posts.content_hash("deptnews", [PartInput("b")]) != base
    assert posts.content_hash("deptnews", [PartInput("a"), PartInput("b")]) != base
    with_image = posts.content_hash("deptnews", [PartInput("a", [posts.MediaRef("f" * 64, "x")])])
    other_alt = posts.content_hash("deptnews", [PartInput("a", [posts.MediaRef("f" * 64, "y")])])
    assert with_image not in (base, other_alt)


def test_only_people_with_draft_rights_can_draft(org: Org) -> None:
    with pytest.raises(PermissionDenied, match=r"bob@example\.org may not draft on @DeptNews"):
        org.draft(author="bob@example.org")


def test_personal_accounts_are_never_drafted_to(org: Org) -> None:
    with pytest.raises(Refused, match="personal account"):
        org.draft(account="@MinisterOwn")


def test_someone_not_in_the_map_cannot_act(org: Org) -> None:
    with pytest.raises(NotFound, match="not in the permission map"):
        org.person("mallory@example.org")


def test_an_empty_post_is_refused(org: Org) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        org.draft("   ")


def test_quorum_of_two_distinct_approvers_approves(org: Org) -> None:
    post = org.submitted()
    first = org.approve(post, "bob@example.org")
    assert not first.met and post.state == PostState.SUBMITTED
    second = org.approve(post, "carol@example.org")
    assert second.met and second.approvers == ["bob@example.org", "carol@example.org"]
    assert post.state == PostState.APPROVED


def test_a_scheduled_post_is_queued_once_approved(org: Org) -> None:
    post = org.submitted(account="@DeptHelp", scheduled_in=timedelta(hours=3))
    org.approve(post, "bob@example.org")
    assert post.state == PostState.QUEUED


def test_no_self_approval_even_for_someone_who_may_approve(org: Org) -> None:
    org.apply(
        small_config(
            people=[
                {"email": "alice@example.org", "roles": ["officer", "approver"]},
                {"email": "bob@example.org", "roles": ["approver"]},
                {"email": "carol@example.org", "roles": ["approver"]},
                {"email": "dana@example.org", "roles": ["lead"]},
            ]
        )
    )
    post = org.submitted()
    with pytest.raises(PermissionDenied, match="wrote post"):
        org.approve(post, "alice@example.org")


def test_someone_who_edited_the_post_may_not_approve_it(org: Org) -> None:
    org.apply(
        small_config(
            people=[
                {"email": "alice@example.org", "roles": ["officer"]},
                {"email": "bob@example.org", "roles": ["approver", "officer"]},
                {"email": "carol@example.org", "roles": ["approver"]},
                {"email": "dana@example.org", "roles": ["lead"]},
            ]
        )
    )
    post = org.submitted()
    assert post.id is not None
    posts.edit(
        org.session,
        actor=org.person("bob@example.org"),
        post_id=post.id,
        parts=[PartInput("Bob's better words")],
        now=org.clock.now(),
    )
    with pytest.raises(PermissionDenied, match="wrote post"):
        org.approve(post, "bob@example.org")


def test_approving_without_rights_on_the_account_is_refused(org: Org) -> None:
    post = org.submitted()
    with pytest.raises(PermissionDenied, match=r"erin@example\.org may not approve on @DeptNews"):
        org.approve(post, "erin@example.org")


def test_the_same_person_counts_once(org: Org) -> None:
    post = org.submitted()
    org.approve(post, "bob@example.org")
    with pytest.raises(Refused, match="already decided"):
        org.approve(post, "bob@example.org")


def test_approval_of_an_old_revision_is_refused(org: Org) -> None:
    post = org.submitted()
    old = org.current_hash(post)
    assert post.id is not None
    posts.edit(
        org.session,
        actor=org.person("alice@example.org"),
        post_id=post.id,
        parts=[PartInput("Corrected wording")],
        now=org.clock.now(),
    )
    with pytest.raises(StaleRevision, match="has changed"):
        review.approve(
            org.session,
            actor=org.person("bob@example.org"),
            post_id=post.id,
            revision_hash=old,
            now=org.clock.now(),
        )


def test_an_edit_voids_earlier_approvals(org: Org) -> None:
    post = org.submitted(account="@DeptHelp")
    org.approve(post, "bob@example.org")
    assert post.state == PostState.APPROVED
    assert post.id is not None
    posts.edit(
        org.session,
        actor=org.person("alice@example.org"),
        post_id=post.id,
        parts=[PartInput("New words need new approval")],
        now=org.clock.now(),
    )
    assert post.state == PostState.SUBMITTED
    assert post.revision_no == 2
    status = review.quorum(org.session, post, current_map(org.session))
    assert status.approvers == []
    # The old approval is still on record, bound to revision 1.
    rows = org.session.exec(select(Approval).where(Approval.post_id == post.id)).all()
    assert len(rows) == 1


def test_an_unchanged_edit_is_refused(org: Org) -> None:
    post = org.draft("Same words")
    assert post.id is not None
    with pytest.raises(InvalidInput, match="same as the current revision"):
        posts.edit(
            org.session,
            actor=org.person("alice@example.org"),
            post_id=post.id,
            parts=[PartInput("Same words")],
            now=org.clock.now(),
        )


def test_a_rejection_stops_the_post_until_it_is_edited_and_resubmitted(org: Org) -> None:
    post = org.submitted()
    assert post.id is not None
    review.reject(
        org.session,
        actor=org.person("bob@example.org"),
        post_id=post.id,
        revision_hash=org.current_hash(post),
        reason="Too informal",
        now=org.clock.now(),
    )
    assert post.state == PostState.REJECTED and post.state_reason == "Too informal"
    with pytest.raises(IllegalTransition):
        org.approve(post, "carol@example.org")
    with pytest.raises(IllegalTransition):
        posts.submit(
            org.session, actor=org.person("alice@example.org"), post_id=post.id, now=org.clock.now()
        )
    posts.edit(
        org.session,
        actor=org.person("alice@example.org"),
        post_id=post.id,
        parts=[PartInput("A more formal version")],
        now=org.clock.now(),
    )
    assert post.state == PostState.DRAFT
    posts.submit(
        org.session, actor=org.person("alice@example.org"), post_id=post.id, now=org.clock.now()
    )
    org.approve(post, "bob@example.org", "carol@example.org")
    assert post.state == PostState.APPROVED


def test_a_rejection_needs_a_reason(org: Org) -> None:
    post = org.submitted()
    assert post.id is not None
    with pytest.raises(InvalidInput, match="why"):
        review.reject(
            org.session,
            actor=org.person("bob@example.org"),
            post_id=post.id,
            revision_hash=org.current_hash(post),
            reason="  ",
            now=org.clock.now(),
        )


def test_withdrawn_posts_cannot_come_back(org: Org) -> None:
    post = org.submitted()
    assert post.id is not None
    posts.withdraw(
        org.session, actor=org.person("alice@example.org"), post_id=post.id, now=org.clock.now()
    )
    assert post.state == PostState.WITHDRAWN
    with pytest.raises(IllegalTransition):
        posts.edit(
            org.session,
            actor=org.person("alice@example.org"),
            post_id=post.id,
            parts=[PartInput("again")],
            now=org.clock.now(),
        )


def test_only_the_author_or_a_manager_may_withdraw(org: Org) -> None:
    post = org.submitted()
    assert post.id is not None
    with pytest.raises(PermissionDenied, match="only its author"):
        posts.withdraw(
            org.session, actor=org.person("bob@example.org"), post_id=post.id, now=org.clock.now()
        )
    posts.withdraw(
        org.session, actor=org.person("dana@example.org"), post_id=post.id, now=org.clock.now()
    )
    assert post.state == PostState.WITHDRAWN


def test_scheduling_an_approved_post_queues_it_and_clearing_unqueues_it(org: Org) -> None:
    post = org.submitted(account="@DeptHelp")
    org.approve(post, "bob@example.org")
    assert post.id is not None
    alice = org.person("alice@example.org")
    now = org.clock.now()
    posts.schedule(
        org.session, actor=alice, post_id=post.id, when=now + timedelta(hours=1), now=now
    )
    assert post.state == PostState.QUEUED
    posts.schedule(org.session, actor=alice, post_id=post.id, when=None, now=now)
    assert post.state == PostState.APPROVED
    with pytest.raises(InvalidInput, match="past"):
        posts.schedule(
            org.session, actor=alice, post_id=post.id, when=now - timedelta(minutes=1), now=now
        )


def test_a_post_scheduled_in_the_past_cannot_be_submitted(org: Org) -> None:
    post = org.draft(scheduled_in=timedelta(minutes=5))
    org.clock.advance(timedelta(minutes=10))
    assert post.id is not None
    with pytest.raises(InvalidInput, match="in the past"):
        posts.submit(
            org.session, actor=org.person("alice@example.org"), post_id=post.id, now=org.clock.now()
        )


def test_rights_are_checked_again_at_publish_time(org: Org) -> None:
    """Bob approves, then loses his role: the post goes back to review instead of out."""
    post = org.submitted(account="@DeptHelp", scheduled_in=timedelta(minutes=5))
    org.approve(post, "bob@example.org")
    assert post.state == PostState.QUEUED
    org.apply(
        small_config(
            people=[
                {"email": "alice@example.org", "roles": ["officer"]},
                {"email": "bob@example.org", "roles": []},
                {"email": "carol@example.org", "roles": ["approver"]},
                {"email": "dana@example.org", "roles": ["lead"]},
            ]
        )
    )
    org.clock.advance(timedelta(minutes=6))
    assert post.id is not None
    claim = start_publishing(org.session, post_id=post.id, worker="w1", now=org.clock.now())
    assert not claim.claimed
    assert "bob@example.org no longer may approve" in claim.reasons[0]
    assert post.state == PostState.SUBMITTED
    org.approve(post, "carol@example.org")
    assert post.state == PostState.QUEUED
    claim = start_publishing(org.session, post_id=post.id, worker="w1", now=org.clock.now())
    assert claim.claimed and post.state == PostState.PUBLISHING


def test_a_queued_post_is_not_claimed_before_its_time(org: Org) -> None:
    post = org.submitted(account="@DeptHelp", scheduled_in=timedelta(hours=1))
    org.approve(post, "bob@example.org")
    assert post.id is not None
    claim = start_publishing(org.session, post_id=post.id, worker="w1", now=org.clock.now())
    assert not claim.claimed and post.state == PostState.QUEUED


def test_a_draft_cannot_be_published(org: Org) -> None:
    post = org.draft()
    assert post.id is not None
    with pytest.raises(IllegalTransition, match="not ready to publish"):
        start_publishing(org.session, post_id=post.id, worker="w1", now=org.clock.now())
