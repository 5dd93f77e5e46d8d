"""The audit log is append-only and hash-chained: any edit, deletion or truncation of the
stored entries is detected, and the first broken entry is named."""

import io
import json
import threading
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from approvals import audit
from approvals.db import session_scope
from approvals.models import AuditEntry
from tests.conftest import NOW


def _append(session: Session, n: int, actor: str = "alice@example.org") -> None:
    for i in range(n):
        audit.record(
            session,
            actor=actor,
            action="test.event",
            subject=f"thing:{i}",
            at=NOW + timedelta(seconds=i),
            details={"i": i, "note": "ünïcode ✓"},
        )
    session.commit()


def test_an_untouched_log_verifies(session: Session) -> None:
    _append(session, 5)
    assert audit.verify(session) == audit.VerifyResult(ok=True, checked=5)


def test_an_empty_log_verifies(session: Session) -> None:
    assert audit.verify(session).ok


def test_each_entry_links_to_the_previous_one(session: Session) -> None:
    _append(session, 3)
    entries = session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()  # type: ignore[arg-type]
    assert entries[0].prev_hash == audit.GENESIS
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]


def test_an_edited_entry_is_named(engine: Engine, session: Session) -> None:
    _append(session, 6)
    with engine.begin() as conn:
        conn.execute(text("UPDATE auditentry SET actor = 'mallory@example.org' WHERE seq = 4"))
    session.expire_all()
    result = audit.verify(session)
    assert not result.ok
    assert result.first_bad_seq == 4
    assert result.checked == 3
    assert result.problem == "entry 4 was altered (hash does not match)"


def test_an_edited_detail_with_a_recomputed_hash_breaks_the_next_link(
    engine: Engine, session: Session
) -> None:
    """A forger who recomputes one entry's hash still breaks the link from the next."""
    _append(session, 4)
    entry = session.get(AuditEntry, 2)
    assert entry is not None
    session.commit()  # end the reading transaction before writing behind the session's back
    forged_details = '{"i":1,"note":"nothing to see"}'
    forged_hash = audit.entry_hash(
        seq=2,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        subject=entry.subject,
        details=forged_details,
        prev=entry.prev_hash,
    )
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE auditentry SET details = :d, hash = :h WHERE seq = 2"),
            {"d": forged_details, "h": forged_hash},
        )
    session.expire_all()
    result = audit.verify(session)
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "does not link" in (result.problem or "")


def test_a_deleted_entry_is_named(engine: Engine, session: Session) -> None:
    _append(session, 5)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM auditentry WHERE seq = 3"))
    session.expire_all()
    result = audit.verify(session)
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert result.problem == "entry 3 is missing (next is 4)"


def test_a_truncated_tail_is_detected(engine: Engine, session: Session) -> None:
    _append(session, 5)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM auditentry WHERE seq >= 4"))
    session.expire_all()
    result = audit.verify(session)
    assert (result.ok, result.first_bad_seq) == (False, 4)


def test_export_writes_one_checkable_json_line_per_entry(session: Session) -> None:
    _append(session, 3)
    out = io.StringIO()
    assert audit.export_jsonl(session, out) == 3
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3]
    assert lines[0]["details"] == {"i": 0, "note": "ünïcode ✓"}
    for line in lines:
        assert line["hash"] == audit.entry_hash(
            seq=line["seq"],
            at=datetime.fromisoformat(line["at"]),
            actor=line["actor"],
            action=line["action"],
            subject=line["subject"],
            details=audit.canonical_json(line["details"]),
            prev=line["prev_hash"],
        )


def test_concurrent_appends_keep_one_gapless_chain(engine: Engine) -> None:
    """Writers in several threads (connections) never fork the chain or leave gaps."""
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for i in range(15):
                with session_scope(engine) as session:
                    audit.record(
                        session, actor=name, action="test.race", subject=f"{name}:{i}", at=NOW
                    )
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Session(engine) as session:
        result = audit.verify(session)
    assert result == audit.VerifyResult(ok=True, checked=60)


def test_a_rolled_back_append_leaves_no_gap(engine: Engine) -> None:
    with Session(engine) as session:
        audit.record(session, actor="a", action="x", subject="s", at=NOW)
        session.commit()
        audit.record(session, actor="a", action="lost", subject="s", at=NOW)
        session.rollback()
        audit.record(session, actor="a", action="kept", subject="s", at=NOW)
        session.commit()
        assert audit.verify(session) == audit.VerifyResult(ok=True, checked=2)
