"""The audit page's verdict walks only what was appended since its last walk that held,
and the whole chain again at least every `whole_walk_every`: a growing log costs a page
load the new entries, not all of them, and an edit anywhere still shows."""

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from approvals.records import audit
from approvals.records.chain_verdicts import WHOLE_WALK_EVERY, ChainVerdicts
from tests.approvals.records.test_audit import _append
from tests.conftest import NOW


def test_a_walk_goes_on_from_the_last_one_over_the_new_entries_only(session: Session) -> None:
    _append(session, 5)
    first, done = audit.verify_on(session, None)
    assert (first.ok, first.checked, first.walked_from) == (True, 5, 1)
    assert done is not None
    _append(session, 3)
    later, again = audit.verify_on(session, done)
    assert (later.ok, later.checked, later.walked_from) == (True, 8, 6)
    assert later.key_ids == audit.verify(session).key_ids
    assert again is not None and again.next_seq == 9
    assert done.next_seq == 6, "the walk handed in is not changed"


def test_a_walk_whose_last_entry_was_rewritten_starts_again_and_names_it(
    engine: Engine, session: Session
) -> None:
    _append(session, 5)
    _, done = audit.verify_on(session, None)
    session.commit()  # ends the walk's read, which holds SQLite's lock
    with engine.begin() as conn:
        conn.execute(text("UPDATE auditentry SET hash = :h WHERE seq = 5"), {"h": "0" * 64})
    session.expire_all()
    result, walk = audit.verify_on(session, done)
    assert (result.ok, result.first_bad_seq, result.walked_from, walk) == (False, 5, 1, None)


def test_a_walk_whose_last_entry_was_cut_off_starts_again(engine: Engine, session: Session) -> None:
    _append(session, 5)
    _, done = audit.verify_on(session, None)
    session.commit()  # ends the walk's read, which holds SQLite's lock
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM auditentry WHERE seq = 5"))
    session.expire_all()
    result, _ = audit.verify_on(session, done)
    assert (result.ok, result.walked_from) == (False, 1)
    assert result.problem == "the log ends at entry 4 but its head records entry 5"


def test_the_page_trusts_its_last_walk_until_the_whole_chain_is_due_again(
    engine: Engine, session: Session
) -> None:
    verdicts = ChainVerdicts()
    _append(session, 4)
    whole = verdicts.verify(session, NOW)
    assert (whole.ok, whole.walked_from, whole.whole_walk_at) == (True, 1, NOW)
    _append(session, 2)
    soon = verdicts.verify(session, NOW + timedelta(minutes=1))
    assert (soon.ok, soon.checked, soon.walked_from, soon.whole_walk_at) == (True, 6, 5, NOW)

    session.commit()
    with engine.begin() as conn:  # an old entry edited, its hash left as it was
        conn.execute(text("UPDATE auditentry SET actor = 'mallory@example.org' WHERE seq = 2"))
    session.expire_all()
    within = verdicts.verify(session, NOW + WHOLE_WALK_EVERY - timedelta(seconds=1))
    assert (within.ok, within.walked_from) == (True, 7), "older entries wait for the whole walk"

    due = verdicts.verify(session, NOW + WHOLE_WALK_EVERY)
    assert (due.ok, due.first_bad_seq, due.walked_from) == (False, 2, 1)
    after = verdicts.verify(session, NOW + WHOLE_WALK_EVERY + timedelta(seconds=1))
    assert (after.ok, after.first_bad_seq, after.walked_from) == (False, 2, 1), "stays broken"
