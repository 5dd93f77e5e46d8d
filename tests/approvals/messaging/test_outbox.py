"""The outbox in the domain: notices are written in the transaction of the change they
report (or not at all), claimed by one worker at a time for a lease, settled in order per
queue; updates of requests that never went out and blackouts the map dropped are dropped."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from approvals.clock import FrozenClock
from approvals.messaging import outbox
from approvals.models import Notice
from approvals.posts import PartInput, edit
from approvals.signoff.reminders import claim_reminder
from tests.factories import Org, load_org, small_config

LEASE = timedelta(minutes=1)
CHANNEL = "#press-approvals"


def slack_map(**overrides: Any) -> dict[str, Any]:
    raw = small_config(**overrides)
    raw["accounts"][0]["slack_channel"] = CHANNEL  # @DeptNews
    ids = {"alice@example.org": "U0ALICE01", "bob@example.org": "U0BOB0001"}
    for person in raw["people"]:
        if person["email"] in ids:
            person["slack_id"] = ids[person["email"]]
    raw["slack"] = {"duty_channel": "#duty"}
    return raw


@pytest.fixture
def office(session: Session, clock: FrozenClock) -> Org:
    return load_org(session, clock, slack_map())


def notices(engine: Engine) -> list[Notice]:
    with Session(engine) as session:
        return list(session.exec(select(Notice).order_by(col(Notice.id))).all())


def first_request(office: Org, engine: Engine) -> int:
    """Submit a post; the id of its first request (to the channel)."""
    office.submitted("Applications open on Monday.")
    office.session.commit()
    first = notices(engine)[0].id
    assert first is not None
    return first


def test_a_submit_writes_its_requests_and_a_rolled_back_one_writes_none(
    office: Org, engine: Engine
) -> None:
    office.submitted("Applications open on Monday.", scheduled_in=timedelta(hours=2))
    office.session.rollback()
    assert notices(engine) == []
    post = office.submitted("Applications open on Monday.", scheduled_in=timedelta(hours=2))
    office.session.commit()
    rows = notices(engine)
    # The channel, and Bob's DM; Carol and Dana may approve but are not on Slack.
    assert [(n.kind, n.channel, n.link_for is not None) for n in rows] == [
        ("request", CHANNEL, False),
        ("request", "U0BOB0001", True),
    ]
    assert {n.queue for n in rows} == {f"post:{post.id}"}


def test_a_claim_holds_for_its_lease_and_a_lapsed_claim_records_nothing(
    office: Org, engine: Engine, clock: FrozenClock
) -> None:
    first = first_request(office, engine)
    with Session(engine) as session:
        held = outbox.claim(session, first, worker="w1", now=clock.now(), lease=LEASE)
        session.commit()
    assert held is not None
    with Session(engine) as session:
        assert outbox.claim(session, first, worker="w2", now=clock.now(), lease=LEASE) is None
        assert outbox.due_ids(session, now=clock.now()) == [], "the DM waits for the channel's"
    clock.advance(LEASE)
    with Session(engine) as session:
        taken = outbox.claim(session, first, worker="w2", now=clock.now(), lease=LEASE)
        session.commit()
    assert taken is not None
    with Session(engine) as session:
        assert not outbox.mark_sent(session, held, now=clock.now(), ts="1.1"), "w1 lost it"
        assert outbox.mark_sent(session, taken, now=clock.now(), channel="C1", ts="1.2")
        session.commit()
    assert notices(engine)[0].sent_ts == "1.2"


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_on_postgres_a_notice_being_claimed_is_skipped_not_waited_for(
    office: Org, engine: Engine, clock: FrozenClock
) -> None:
    first = first_request(office, engine)
    with Session(engine) as claiming, Session(engine) as other:
        assert outbox.claim(claiming, first, worker="w1", now=clock.now(), lease=LEASE)
        assert outbox.claim(other, first, worker="w2", now=clock.now(), lease=LEASE) is None
        claiming.rollback()


def test_an_update_of_a_request_that_never_went_out_is_dropped(
    office: Org, engine: Engine, clock: FrozenClock
) -> None:
    post = office.submitted("Applications open on Monday.")
    office.approve(post, "bob@example.org")
    office.session.commit()
    request, dm, update, *_ = notices(engine)
    assert update.kind == "update" and update.target_id == request.id
    with Session(engine) as session:
        for row in (request, dm):
            assert row.id is not None
            claimed = outbox.claim(session, row.id, worker="w1", now=clock.now(), lease=LEASE)
            assert claimed is not None
            outbox.mark_failed(session, claimed, now=clock.now(), error="gone", retry_at=None)
        session.commit()
    assert update.id is not None
    with Session(engine) as session:
        assert outbox.claim(session, update.id, worker="w1", now=clock.now(), lease=LEASE) is None
        session.commit()
    states = {n.id: n.state for n in notices(engine)}
    assert states[update.id] == "dropped"


def test_an_edit_drops_requests_that_never_went_out(office: Org, engine: Engine) -> None:
    post = office.submitted("Applications open on Monday.")
    assert post.id is not None
    edit(
        office.session,
        actor=office.person("alice@example.org"),
        post_id=post.id,
        parts=[PartInput("Applications open on Tuesday.")],
        now=office.clock.now(),
    )
    office.session.commit()
    rows = notices(engine)
    assert [(n.revision_no, n.state) for n in rows if n.kind == "request"] == [
        (1, "dropped"),
        (1, "dropped"),
        (2, "pending"),
        (2, "pending"),
    ]
    assert [n for n in rows if n.kind == "update"] == [], "nothing to update in Slack"


def test_a_blackout_is_told_when_it_starts_and_ends_once_whatever_the_reloads(
    office: Org, engine: Engine, clock: FrozenClock
) -> None:
    window = {"name": "Purdah", "start": "2026-12-01 09:00", "end": "2026-12-02 09:00"}
    office.apply(slack_map(blackouts=[window]))
    office.apply(slack_map(blackouts=[window], policy={"max_hashtags": 1}))  # another map
    office.session.commit()
    rows = [n for n in notices(engine) if n.queue == "duty"]
    assert [n.text for n in rows] == [
        "Blackout 'Purdah' begins: nothing goes out on every account until 2026-12-02 09:00 GMT.",
        "Blackout 'Purdah' is over: publishing on every account resumes.",
    ]
    assert all(n.channel == "#duty" and n.due_at > clock.now() for n in rows)
    with Session(engine) as session:
        assert outbox.due_ids(session, now=clock.now()) == [], "not before its time"
        assert outbox.due_ids(session, now=rows[0].due_at) == [rows[0].id]
    office.apply(slack_map())  # the window is gone from the map
    office.session.commit()
    assert rows[0].id is not None
    with Session(engine) as session:
        gone = outbox.claim(session, rows[0].id, worker="w", now=rows[0].due_at, lease=LEASE)
        session.commit()
    assert gone is None and notices(engine)[0].state == "dropped"


def test_a_reminder_is_a_dm_with_a_link_to_each_approver_asked(
    office: Org, engine: Engine, clock: FrozenClock
) -> None:
    post = office.submitted("Applications open on Monday.", scheduled_in=timedelta(minutes=30))
    assert post.id is not None
    office.session.commit()
    before = len(notices(engine))
    with Session(engine) as session:
        assert claim_reminder(session, post_id=post.id, now=clock.now())
        session.commit()
    reminders = notices(engine)[before:]
    assert [(n.kind, n.channel) for n in reminders] == [
        ("notice", "U0BOB0001"),
        ("notice", None),  # Carol has no Slack: the log
        ("notice", None),  # nor Dana
    ]
    assert all(n.link_for is not None and n.revision_hash for n in reminders)
    assert "needs 2 more approval(s)" in reminders[0].text
