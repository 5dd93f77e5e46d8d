"""Escalation of a post due soon and short of approvals: deputies first, then the duty
officers; each step once, audited, on an injected clock at both edges of each lead time."""

import json
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from approvals.errors import PermissionDenied
from approvals.models import AuditEntry, Notice, Post
from approvals.signoff.escalation import due_escalations
from tests.approvals.governance_maps import staged_config
from tests.factories import Org

DUE_IN = timedelta(hours=3)
DEPUTY_LEAD = timedelta(minutes=120)
DUTY_LEAD = timedelta(minutes=30)
SECOND = timedelta(seconds=1)
ESCALATING = {
    "escalate_within_minutes": 120,
    "duty_within_minutes": 30,
    "deputy_role": "deputy",
    "duty_role": "duty",
}


def _due_post(org: Org) -> Post:
    org.apply(staged_config(account=ESCALATING))
    post = org.submitted(scheduled_in=DUE_IN)
    org.session.commit()
    return post


def _escalations(session: Session) -> list[dict[str, object]]:
    rows = session.exec(
        select(AuditEntry)
        .where(AuditEntry.action == "post.escalated")
        .order_by(col(AuditEntry.seq))
    ).all()
    return [json.loads(r.details) for r in rows]


def test_a_post_is_escalated_to_deputies_exactly_at_the_lead_time(engine: Engine, org: Org) -> None:
    post = _due_post(org)
    org.clock.advance(DUE_IN - DEPUTY_LEAD - SECOND)
    assert due_escalations(engine, now=org.clock.now()) == []
    org.clock.advance(SECOND)
    (step,) = due_escalations(engine, now=org.clock.now())
    assert (step.post_id, step.level, step.to) == (post.id, 1, "deputies")
    assert step.people == ["erin@example.org"]
    assert step.missing == 2
    assert "Escalated to the deputies" in step.message
    assert due_escalations(engine, now=org.clock.now()) == [], "each step once"
    with Session(engine) as session:
        assert [e["to"] for e in _escalations(session)] == ["deputies"]


def test_the_duty_officer_is_told_exactly_at_the_second_lead_time(engine: Engine, org: Org) -> None:
    _due_post(org)
    org.clock.advance(DUE_IN - DEPUTY_LEAD)
    due_escalations(engine, now=org.clock.now())
    org.clock.advance(DEPUTY_LEAD - DUTY_LEAD - SECOND)
    assert due_escalations(engine, now=org.clock.now()) == []
    org.clock.advance(SECOND)
    (step,) = due_escalations(engine, now=org.clock.now())
    assert (step.level, step.to, step.people) == (
        2,
        "duty officer",
        ["frank@example.org", "hal@example.org"],
    )


def test_a_post_submitted_late_takes_both_steps_in_order(engine: Engine, org: Org) -> None:
    org.apply(staged_config(account=ESCALATING))
    org.submitted(scheduled_in=DUTY_LEAD)
    org.session.commit()
    steps = due_escalations(engine, now=org.clock.now())
    assert [s.to for s in steps] == ["deputies", "duty officer"]
    with Session(engine) as session:
        assert [e["level"] for e in _escalations(session)] == [1, 2]


def test_a_deputy_may_stand_in_only_once_the_post_is_escalated(engine: Engine, org: Org) -> None:
    post = _due_post(org)
    with pytest.raises(PermissionDenied, match="fills no stage"):
        org.approve(post, "erin@example.org")
    org.session.rollback()
    org.clock.advance(DUE_IN - DEPUTY_LEAD)
    due_escalations(engine, now=org.clock.now())
    org.session.expire_all()
    fresh = org.session.get(Post, post.id)
    assert fresh is not None
    status = org.approve(fresh, "erin@example.org", "dana@example.org")
    assert status.met
    assert {s.name: s.signed for s in status.stages} == {
        "press": ["erin@example.org"],
        "legal": ["dana@example.org"],
    }


def test_a_post_with_every_stage_signed_is_not_escalated(engine: Engine, org: Org) -> None:
    post = _due_post(org)
    org.approve(post, "bob@example.org", "dana@example.org")
    org.session.commit()
    org.clock.advance(DUE_IN - DUTY_LEAD)
    assert due_escalations(engine, now=org.clock.now()) == []


def test_without_lead_times_nothing_is_escalated(engine: Engine, org: Org) -> None:
    org.apply(staged_config())
    org.submitted(scheduled_in=timedelta(minutes=5))
    org.session.commit()
    assert due_escalations(engine, now=org.clock.now()) == []


def test_each_escalation_step_leaves_a_notice_for_each_person_asked(
    engine: Engine, org: Org
) -> None:
    """The outbox carries the escalation to Slack (or the log), written with the step."""
    post = _due_post(org)
    org.clock.advance(DUE_IN - DUTY_LEAD)
    due_escalations(engine, now=org.clock.now())
    with Session(engine) as session:
        texts = [
            n.text
            for n in session.exec(
                select(Notice).where(Notice.post_id == post.id).order_by(col(Notice.id))
            )
            if "Escalated" in n.text
        ]
    assert [t.split(":")[0] for t in texts] == [
        "Escalated to you (deputies)",
        "Escalated to you (duty officer)",
        "Escalated to you (duty officer)",
    ]
    assert all(f"post {post.id} on @DeptNews" in t for t in texts)
