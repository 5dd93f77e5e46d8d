"""Pauses with a reason and an optional end; lifting a pause of all publishing takes two
different people with the pause right (both audited). Injected clock, both edges."""

import json
from datetime import timedelta

import pytest
from sqlmodel import col, select

from approvals.delivery import controls
from approvals.errors import InvalidInput, PermissionDenied, Refused
from approvals.map_store import get_account
from approvals.models import AuditEntry
from tests.approvals.governance_maps import staged_config
from tests.factories import Org

HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)


def _entries(org: Org, prefix: str = "publishing.") -> list[tuple[str, str, dict[str, object]]]:
    rows = org.session.exec(
        select(AuditEntry)
        .where(col(AuditEntry.action).startswith(prefix))
        .order_by(col(AuditEntry.seq))
    ).all()
    return [(r.actor, r.action, json.loads(r.details)) for r in rows]


def _paused_everywhere(org: Org) -> bool:
    news = get_account(org.session, "@DeptNews")
    return any(
        "all publishing is paused" in h for h in controls.holds(org.session, news, org.clock.now())
    )


@pytest.fixture
def office(org: Org) -> Org:
    org.apply(staged_config())
    controls.pause(
        org.session, actor=org.person("frank@example.org"), now=org.clock.now(), reason="Crisis"
    )
    return org


def test_a_global_pause_lifted_by_one_person_stays_in_force(office: Org) -> None:
    done = controls.resume(
        office.session, actor=office.person("frank@example.org"), now=office.clock.now()
    )
    assert not done.lifted
    assert _paused_everywhere(office)
    with pytest.raises(Refused, match="two-person rule"):
        controls.resume(
            office.session, actor=office.person("frank@example.org"), now=office.clock.now()
        )
    assert _paused_everywhere(office)


def test_a_second_person_with_the_pause_right_lifts_it(office: Org) -> None:
    controls.resume(
        office.session, actor=office.person("frank@example.org"), now=office.clock.now()
    )
    done = controls.resume(
        office.session, actor=office.person("hal@example.org"), now=office.clock.now()
    )
    assert done.lifted and done.requested_by == "frank@example.org"
    assert not _paused_everywhere(office)
    assert [(actor, action) for actor, action, _ in _entries(office)] == [
        ("frank@example.org", "publishing.pause"),
        ("frank@example.org", "publishing.resume_requested"),
        ("hal@example.org", "publishing.resume"),
    ]
    assert _entries(office)[-1][2]["requested_by"] == "frank@example.org"


def test_someone_without_the_pause_right_neither_asks_nor_confirms(office: Org) -> None:
    with pytest.raises(PermissionDenied):
        controls.resume(
            office.session, actor=office.person("bob@example.org"), now=office.clock.now()
        )
    assert _paused_everywhere(office)


def test_a_request_lapses_when_its_asker_loses_the_pause_right(office: Org) -> None:
    controls.resume(
        office.session, actor=office.person("frank@example.org"), now=office.clock.now()
    )
    raw = staged_config()
    for person in raw["people"]:
        if person["email"] == "frank@example.org":
            person["roles"] = []
    office.apply(raw)
    done = controls.resume(
        office.session, actor=office.person("hal@example.org"), now=office.clock.now()
    )
    assert not done.lifted, "hal's is now the first request"
    assert _paused_everywhere(office)


def test_one_person_resumes_an_account(org: Org) -> None:
    org.apply(staged_config())
    frank = org.person("frank@example.org")
    controls.pause(
        org.session, actor=frank, now=org.clock.now(), account_handle="@DeptNews", reason="x"
    )
    done = controls.resume(
        org.session, actor=frank, now=org.clock.now(), account_handle="@DeptNews"
    )
    assert done.lifted
    assert not controls.holds(org.session, get_account(org.session, "@DeptNews"), org.clock.now())


def test_a_pause_with_an_end_holds_until_that_instant(org: Org) -> None:
    org.apply(staged_config())
    frank = org.person("frank@example.org")
    start = org.clock.now()
    controls.pause(org.session, actor=frank, now=start, reason="Briefing", until=start + HOUR)
    controls.pause(
        org.session,
        actor=frank,
        now=start,
        account_handle="@DeptHelp",
        reason="x",
        until=start + HOUR,
    )
    help_ = get_account(org.session, "@DeptHelp")
    assert len(controls.holds(org.session, help_, start + HOUR - SECOND)) == 2
    assert not controls.pauses_ended(org.session, now=start + HOUR - SECOND)
    assert controls.holds(org.session, help_, start + HOUR) == []
    assert controls.pauses_ended(org.session, now=start + HOUR)
    lifted = controls.lift_ended_pauses(org.session, now=start + HOUR)
    assert lifted == ["publishing:all", "account:depthelp"]
    ends = [
        (a, d.get("automatic")) for a, action, d in _entries(org) if action == "publishing.resume"
    ]
    assert ends == [("system", True), ("system", True)]
    assert _entries(org)[0][2] == {"reason": "Briefing", "until": (start + HOUR).isoformat()}


def test_a_pause_cannot_end_in_the_past(org: Org) -> None:
    org.apply(staged_config())
    with pytest.raises(InvalidInput, match="in the past"):
        controls.pause(
            org.session,
            actor=org.person("frank@example.org"),
            now=org.clock.now(),
            until=org.clock.now(),
        )
