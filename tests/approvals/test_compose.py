"""Saving a compose form (approvals.compose): a new revision only for new words, a new time
alone keeps the approvals, a post in review is not submitted twice, and only its drafters
may open a post whose words can still change. On SQLite and PostgreSQL."""

from datetime import timedelta

import pytest

from approvals import compose, posts
from approvals.errors import IllegalTransition, NotFound, PermissionDenied, Refused
from approvals.map_store import current_map
from approvals.models import Post, PostState
from approvals.posts import PartInput
from approvals.records import audit
from approvals.signoff import review
from tests.factories import Org

ALICE = "alice@example.org"


def save_changes(
    org: Org,
    post: Post,
    text: str,
    *,
    reschedule: compose.Reschedule | None = None,
    submit: bool = False,
) -> compose.Saved:
    """Alice saves the compose form of `post` with `text`, as opened at its current words."""
    assert post.id is not None
    return compose.save_changes(
        org.session,
        actor=org.person(ALICE),
        post_id=post.id,
        parts=[PartInput(text)],
        expected_hash=org.current_hash(post),
        reschedule=reschedule,
        submit=submit,
        now=org.clock.now(),
    )


def test_the_same_words_again_make_no_revision_and_no_audit_entry(org: Org) -> None:
    post = org.draft("Unchanged words")
    assert post.id is not None
    saved = save_changes(org, post, "Unchanged words")
    assert not saved.changed and saved.post.revision_no == 1
    assert [e.action for e in audit.entries_for(org.session, f"post:{post.id}")] == ["post.draft"]


def test_a_new_time_alone_reschedules_and_the_approvals_stand(org: Org) -> None:
    post = org.submitted("Words approved once", scheduled_in=timedelta(days=2))
    org.approve(post, "bob@example.org")
    assert post.id is not None
    later = org.clock.now() + timedelta(days=3)
    saved = save_changes(org, post, "Words approved once", reschedule=compose.Reschedule(later))
    assert saved.rescheduled and not saved.edited
    assert saved.post.scheduled_at == later and saved.post.revision_no == 1
    standing = review.quorum(org.session, saved.post, current_map(org.session))
    assert standing.approvers == ["bob@example.org"]


def test_an_edit_in_review_with_submit_goes_back_to_review_once(org: Org) -> None:
    post = org.submitted("First words")
    assert post.id is not None
    saved = save_changes(org, post, "Second words", submit=True)
    assert saved.edited and not saved.submitted and saved.post.state == PostState.SUBMITTED


def test_submitting_a_new_draft_with_a_blocking_finding_is_refused(org: Org) -> None:
    with pytest.raises(Refused, match="blocking policy findings"):
        compose.save_new(
            org.session,
            actor=org.person("alice@example.org"),
            account_handle="@DeptNews",
            parts=[PartInput("Write to jo@example.org")],
            scheduled_at=None,
            submit=True,
            now=org.clock.now(),
        )


def test_only_a_drafter_opens_a_post_whose_words_can_still_change(org: Org) -> None:
    post = org.draft("Words")
    assert post.id is not None
    alice = org.person("alice@example.org")
    assert compose.open_for_edit(org.session, actor=alice, post_id=post.id) is post
    with pytest.raises(PermissionDenied, match=r"bob@example\.org may not draft on @DeptNews"):
        compose.open_for_edit(org.session, actor=org.person("bob@example.org"), post_id=post.id)
    posts.withdraw(org.session, actor=alice, post_id=post.id, now=org.clock.now())
    with pytest.raises(IllegalTransition, match="withdrawn; it can no longer be edited"):
        compose.open_for_edit(org.session, actor=alice, post_id=post.id)
    for missing in (999, 0, 2**40):
        with pytest.raises(NotFound, match=f"post {missing} does not exist"):
            compose.find_post(org.session, missing)
