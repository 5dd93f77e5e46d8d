"""Approvals expire after the account's `approval_max_age_hours`: a post whose time comes
after that goes back to review and its approvers are asked again. Injected clock, both
edges of the threshold."""

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from approvals.delivery.publishing import start_publishing
from approvals.errors import Refused
from approvals.map_store import current_map
from approvals.models import Approval, Post, PostState
from approvals.signoff import review
from approvals.signoff.reminders import due_reminders
from tests.approvals.governance_maps import staged_config
from tests.factories import Org

MAX_AGE = timedelta(hours=24)
SECOND = timedelta(seconds=1)


def _approved(org: Org, scheduled_in: timedelta) -> int:
    org.apply(staged_config(account={"approval_max_age_hours": 24}))
    post = org.submitted(scheduled_in=scheduled_in)
    org.approve(post, "bob@example.org", "dana@example.org")
    assert post.state == PostState.QUEUED and post.id is not None
    org.session.commit()
    return post.id


def test_an_approval_counts_until_one_second_before_its_age_runs_out(org: Org) -> None:
    post_id = _approved(org, MAX_AGE - SECOND)
    org.clock.advance(MAX_AGE - SECOND)
    claim = start_publishing(org.session, post_id=post_id, worker="w", now=org.clock.now())
    assert claim.claimed, claim.reasons


def test_an_expired_approval_does_not_count_and_the_post_goes_back_to_review(org: Org) -> None:
    post_id = _approved(org, MAX_AGE)
    org.clock.advance(MAX_AGE)
    claim = start_publishing(org.session, post_id=post_id, worker="w", now=org.clock.now())
    assert not claim.claimed
    assert claim.post.state == PostState.SUBMITTED
    assert "has expired (approvals on @DeptNews last 24 hours)" in claim.reasons[0]
    status = review.quorum(org.session, claim.post, current_map(org.session), now=org.clock.now())
    assert status.approvers == [] and not status.met


def test_approvers_are_asked_again_and_may_approve_again(engine: Engine, org: Org) -> None:
    post_id = _approved(org, MAX_AGE)
    org.clock.advance(MAX_AGE)
    start_publishing(org.session, post_id=post_id, worker="w", now=org.clock.now())
    org.session.commit()
    (reminder,) = due_reminders(engine, now=org.clock.now())
    assert reminder.post_id == post_id
    assert reminder.missing == 2
    assert set(reminder.approvers) == {
        "bob@example.org",
        "carol@example.org",
        "dana@example.org",
    }
    post = org.session.get(Post, post_id)
    assert post is not None
    org.session.refresh(post)
    status = org.approve(post, "bob@example.org", "dana@example.org")
    assert status.met and post.state == PostState.QUEUED
    rows = org.session.exec(select(Approval).where(Approval.post_id == post_id)).all()
    assert len(rows) == 2, "a renewed approval replaces the expired one"
    assert all(r.expires_at == org.clock.now() + MAX_AGE for r in rows)


def test_an_approval_is_renewed_only_once_it_has_expired(org: Org) -> None:
    org.apply(staged_config(account={"approval_max_age_hours": 24}))
    post = org.submitted()
    org.approve(post, "bob@example.org")
    org.clock.advance(MAX_AGE - SECOND)
    with pytest.raises(Refused, match="already decided"):
        org.approve(post, "bob@example.org")
    org.clock.advance(SECOND)
    status = org.approve(post, "bob@example.org")
    assert status.approvers == ["bob@example.org"]


def test_without_a_maximum_age_approvals_never_expire(org: Org) -> None:
    org.apply(staged_config())
    post = org.submitted(scheduled_in=MAX_AGE * 30)
    org.approve(post, "bob@example.org", "dana@example.org")
    assert post.id is not None
    org.clock.advance(MAX_AGE * 30)
    assert start_publishing(org.session, post_id=post.id, worker="w", now=org.clock.now()).claimed
