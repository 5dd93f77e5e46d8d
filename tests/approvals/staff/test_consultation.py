"""Staff consultation on the personal-use guidance: a draft open for comments until a date,
anonymous comments, the union's sign-off, the owner's answers, and a published version that
records them and that staff acknowledge afresh."""

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from approvals.errors import IllegalTransition, PermissionDenied, Refused
from approvals.models import AuditEntry
from approvals.staff import guidance
from approvals.staff.consultation import (
    acknowledgements,
    answer,
    comment,
    consultation_view,
    open_draft,
    publish_consulted,
    sign_off,
)
from tests.factories import Org, small_config

WEEK = timedelta(days=7)
OWNER, UNION = "dana@example.org", "uma@example.org"


def consult_config(**guidance_overrides: Any) -> dict[str, Any]:
    raw = small_config()
    raw["roles"]["union_rep"] = {"actions": [], "description": "Trade union representative"}
    raw["people"].append({"email": UNION, "roles": ["union_rep"]})
    raw["guidance"] = {"union_role": "union_rep", **guidance_overrides}
    return raw


@pytest.fixture
def office(org: Org) -> Org:
    org.apply(consult_config())
    return org


def test_a_consulted_version_records_comments_answers_and_sign_off(office: Org) -> None:
    now = office.clock.now
    owner = office.person(OWNER)
    first = guidance.publish(office.session, actor=owner, now=now())
    assert first is not None
    for reader in ("alice@example.org", "bob@example.org"):
        guidance.record_read(office.session, person=office.person(reader), now=now())
    assert len(acknowledgements(office.session).read) == 2

    draft = open_draft(
        office.session, actor=owner, closes_at=now() + WEEK, anonymous=True, now=now()
    )
    assert draft.id is not None
    said = {
        email: comment(
            office.session,
            actor=office.person(email),
            consultation_id=draft.id,
            body=f"A comment from {email.split('@')[0]}",
            now=now(),
        )
        for email in ("alice@example.org", "bob@example.org", "erin@example.org")
    }

    # Anonymous to everyone but the policy owner (and the writer, who sees their own).
    seen_by_bob = consultation_view(
        office.session, viewer=office.person("bob@example.org"), now=now()
    )
    assert seen_by_bob is not None
    assert [c.author for c in seen_by_bob.comments] == ["anonymous", "bob@example.org", "anonymous"]
    seen_by_owner = consultation_view(office.session, viewer=owner, now=now())
    assert seen_by_owner is not None
    assert [c.author for c in seen_by_owner.comments] == [
        "alice@example.org",
        "bob@example.org",
        "erin@example.org",
    ]

    with pytest.raises(Refused, match="open for comments until"):
        publish_consulted(office.session, actor=owner, consultation_id=draft.id, now=now())
    office.clock.advance(WEEK)
    with pytest.raises(IllegalTransition, match="closed for comments"):
        comment(
            office.session,
            actor=office.person("carol@example.org"),
            consultation_id=draft.id,
            body="late",
            now=now(),
        )
    with pytest.raises(Refused, match="not signed off"):
        publish_consulted(office.session, actor=owner, consultation_id=draft.id, now=now())
    with pytest.raises(PermissionDenied, match="does not hold the union_rep role"):
        sign_off(
            office.session,
            actor=office.person("bob@example.org"),
            consultation_id=draft.id,
            now=now(),
        )
    sign_off(office.session, actor=office.person(UNION), consultation_id=draft.id, now=now())
    answered = [said["alice@example.org"].id, said["bob@example.org"].id]
    for comment_id in answered:
        assert comment_id is not None
        answer(
            office.session,
            actor=owner,
            comment_id=comment_id,
            text="Thank you; changed.",
            now=now(),
        )
    with pytest.raises(PermissionDenied, match="not the policy owner"):
        answer(
            office.session,
            actor=office.person("bob@example.org"),
            comment_id=answered[0] or 0,
            text="x",
            now=now(),
        )

    version = publish_consulted(office.session, actor=owner, consultation_id=draft.id, now=now())
    assert (version.consultation_id, version.signed_off_by) == (draft.id, UNION)
    assert version.answered_comments == answered
    assert version.text == first.text, "the same words, and still it must be acknowledged again"

    figures = acknowledgements(office.session)
    assert figures.version_id == version.id
    assert figures.read == [], "reads of the earlier version do not count"
    assert len(figures.not_read) == 6
    guidance.record_read(office.session, person=office.person("alice@example.org"), now=now())
    assert acknowledgements(office.session).read == ["alice@example.org"]

    entries = office.session.exec(
        select(AuditEntry)
        .where(col(AuditEntry.subject) == f"consultation:{draft.id}")
        .order_by(col(AuditEntry.seq))
    ).all()
    assert [(e.actor, e.action) for e in entries] == [
        (OWNER, "guidance.consultation_open"),
        ("anonymous", "guidance.comment"),
        ("anonymous", "guidance.comment"),
        ("anonymous", "guidance.comment"),
        (UNION, "guidance.signoff"),
        (OWNER, "guidance.answer"),
        (OWNER, "guidance.answer"),
    ]
    asked = office.session.exec(
        select(AuditEntry).where(AuditEntry.action == "guidance.acknowledge_requested")
    ).one()
    assert len(json.loads(asked.details)["asked"]) == 6


def test_named_comments_show_their_writer_to_everyone(office: Org) -> None:
    now = office.clock.now
    draft = open_draft(
        office.session,
        actor=office.person(OWNER),
        closes_at=now() + WEEK,
        anonymous=False,
        now=now(),
    )
    assert draft.id is not None
    comment(
        office.session,
        actor=office.person("alice@example.org"),
        consultation_id=draft.id,
        body="Hi",
        now=now(),
    )
    view = consultation_view(office.session, viewer=office.person("bob@example.org"), now=now())
    assert view is not None and [c.author for c in view.comments] == ["alice@example.org"]


def test_only_the_policy_owner_opens_a_consultation(office: Org) -> None:
    with pytest.raises(PermissionDenied, match="not the policy owner"):
        open_draft(
            office.session,
            actor=office.person("bob@example.org"),
            closes_at=office.clock.now() + WEEK,
            anonymous=False,
            now=office.clock.now(),
        )
