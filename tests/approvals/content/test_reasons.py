"""A reason (for a rejection, a takedown, a pause) is kept for good in the audit log and read
by people: control characters and novels are refused with a line saying where, and nothing
changes. On PostgreSQL a NUL in a reason used to end in a database error."""

import pytest
from sqlalchemy import func
from sqlmodel import select

from approvals.content.reasons import MAX_REASON_CHARACTERS, check_reason
from approvals.delivery import controls
from approvals.errors import InvalidInput
from approvals.models import AuditEntry, GlobalPause, PostState
from approvals.signoff import review
from tests.factories import Org


def _audit_entries(org: Org) -> int:
    return org.session.exec(select(func.count()).select_from(AuditEntry)).one()


@pytest.mark.parametrize("bad", ["Too\x00informal", "Too\x1binformal"])
def test_a_rejection_reason_with_a_control_character_is_refused_and_changes_nothing(
    org: Org, bad: str
) -> None:
    post = org.submitted()
    assert post.id is not None
    before = _audit_entries(org)
    with pytest.raises(
        InvalidInput, match=r"^the reason for the rejection, character 4: U\+00(00|1B) .*control"
    ):
        review.reject(
            org.session,
            actor=org.person("bob@example.org"),
            post_id=post.id,
            revision_hash=org.current_hash(post),
            reason=bad,
            now=org.clock.now(),
        )
    assert post.state == PostState.SUBMITTED
    assert _audit_entries(org) == before


def test_a_rejection_reason_keeps_its_line_breaks_and_loses_surrounding_blanks(org: Org) -> None:
    post = org.submitted()
    assert post.id is not None
    review.reject(
        org.session,
        actor=org.person("bob@example.org"),
        post_id=post.id,
        revision_hash=org.current_hash(post),
        reason="  Too informal.\nSay 'the department'.  ",
        now=org.clock.now(),
    )
    assert post.state_reason == "Too informal.\nSay 'the department'."


def test_a_pause_reason_longer_than_a_page_is_refused_and_nothing_is_paused(org: Org) -> None:
    with pytest.raises(InvalidInput, match=f"keep it to {MAX_REASON_CHARACTERS}"):
        controls.pause(
            org.session,
            actor=org.person("dana@example.org"),
            now=org.clock.now(),
            reason="x" * (MAX_REASON_CHARACTERS + 1),
        )
    assert all(not row.paused for row in org.session.exec(select(GlobalPause)))


def test_a_reason_at_the_limit_is_accepted() -> None:
    assert check_reason("y" * MAX_REASON_CHARACTERS, what="the reason") == "y" * 1000
