"""The audit log is append-only, hash-chained and keyed: any edit, deletion or truncation of
the stored entries is detected, a chain recomputed without the key is detected, and the
first broken entry is named."""

import io
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from approvals.db import make_engine, read_only_engine, session_scope
from approvals.errors import AuditBroken
from approvals.models import AuditEntry, AuditHead
from approvals.records import audit
from approvals.records.audit_chain import head_seal, seal
from approvals.records.audit_keys import AuditKeyMissing, AuditKeyring
from tests.conftest import NOW
from tests.factories import AUDIT_KEY, AUDIT_KEYS

KEY_ID = AUDIT_KEYS.current.key_id


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


def _rows(engine: Engine) -> tuple[list[tuple[object, ...]], tuple[object, ...] | None]:
    with read_only_engine(engine).connect() as conn:
        entries = conn.execute(text("SELECT * FROM auditentry ORDER BY seq")).all()
        head = conn.execute(text("SELECT * FROM audithead")).first()
    return [tuple(e) for e in entries], None if head is None else tuple(head)


@pytest.fixture
def other_engine(engine: Engine) -> Iterator[Engine]:
    """The same database, opened by a process configured with another audit key."""
    other = make_engine(
        engine.url.render_as_string(hide_password=False),
        audit_keys=AuditKeyring.derive("another-key-entirely-0123456789abcdef"),
    )
    yield other
    other.dispose()


def test_an_untouched_log_verifies(session: Session) -> None:
    _append(session, 5)
    assert audit.verify(session) == audit.VerifyResult(ok=True, checked=5, key_ids=(KEY_ID,))


def test_an_empty_log_verifies(session: Session) -> None:
    assert audit.verify(session) == audit.VerifyResult(ok=True, checked=0)


def test_each_entry_links_to_the_previous_one(session: Session) -> None:
    _append(session, 3)
    entries = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all()
    assert entries[0].prev_hash == audit.GENESIS
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]


def test_entries_are_sealed_by_hmac_and_name_the_key_never_holding_it(
    engine: Engine, session: Session
) -> None:
    _append(session, 2)
    entry = session.get(AuditEntry, 2)
    assert entry is not None and entry.key_id == KEY_ID
    assert entry.hash == seal(entry, AUDIT_KEYS.current)
    assert entry.hash != seal(entry, None)  # not the plain SHA-256 of before
    head = session.get(AuditHead, 1)
    assert head is not None
    assert (head.seq, head.key_id) == (2, KEY_ID)
    assert head.seal == head_seal(AUDIT_KEYS.current, seq=2, hash=entry.hash)
    stored = repr(_rows(engine))
    assert AUDIT_KEY not in stored
    assert AUDIT_KEYS.current.secret.hex() not in stored


def test_an_edited_entry_is_named(engine: Engine, session: Session) -> None:
    _append(session, 6)
    session.commit()
    with engine.begin() as conn:
        conn.execute(text("UPDATE auditentry SET actor = 'mallory@example.org' WHERE seq = 4"))
    session.expire_all()
    result = audit.verify(session)
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 4, 3)
    assert result.problem == (
        "entry 4 was altered (its HMAC does not match: changed, or recomputed without the key)"
    )


def test_an_entry_resealed_with_another_key_under_the_same_key_id_is_named(
    engine: Engine, session: Session
) -> None:
    _append(session, 4)
    entry = session.get(AuditEntry, 2)
    assert entry is not None
    session.commit()
    guessed = AuditKeyring.derive("a guess at the key, 0123456789abcdef").current
    session.expunge(entry)
    entry.actor = "mallory@example.org"
    forged = seal(entry, guessed)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE auditentry SET actor = 'mallory@example.org', hash = :h WHERE seq = 2"),
            {"h": forged},
        )
    session.expire_all()
    result = audit.verify(session)
    assert (result.ok, result.first_bad_seq) == (False, 2)
    assert "HMAC does not match" in (result.problem or "")


def test_a_deleted_entry_is_named(engine: Engine, session: Session) -> None:
    _append(session, 5)
    session.commit()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM auditentry WHERE seq = 3"))
    session.expire_all()
    result = audit.verify(session)
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert result.problem == "entry 3 is missing (next is 4)"


def test_a_truncated_tail_under_an_untouched_head_is_detected(
    engine: Engine, session: Session
) -> None:
    _append(session, 5)
    session.commit()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM auditentry WHERE seq >= 4"))
    session.expire_all()
    result = audit.verify(session)
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert result.problem == "the log ends at entry 3 but its head records entry 5"


def test_a_truncated_tail_with_the_head_wound_back_is_caught_by_the_seal(
    engine: Engine, session: Session
) -> None:
    _append(session, 5)
    kept = session.get(AuditEntry, 3)
    assert kept is not None
    session.commit()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM auditentry WHERE seq > 3"))
        conn.execute(text("UPDATE audithead SET seq = 3, hash = :h"), {"h": kept.hash})
    session.expire_all()
    result = audit.verify(session)
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert result.problem == (
        "the audit head row names entry 3 but its seal does not match: it was rewritten outside "
        "pressgate (entries after 3 may have been removed)"
    )


def test_a_log_sealed_with_another_key_names_the_key_it_needs(
    session: Session, other_engine: Engine
) -> None:
    _append(session, 2)
    with Session(other_engine) as other:
        result = audit.verify(other)
    assert (result.ok, result.first_bad_seq) == (False, 1)
    assert result.problem == (
        f"entry 1 is sealed with key {KEY_ID}, which is not configured here (set "
        "PRESSGATE_AUDIT_KEY, or PRESSGATE_SECRET_KEY, to the one that wrote it)"
    )


def test_a_process_with_another_key_records_nothing(
    engine: Engine, session: Session, other_engine: Engine
) -> None:
    """It would otherwise fork the chain onto a key the rest of the installation lacks."""
    _append(session, 2)
    before = _rows(engine)
    with Session(other_engine) as other, pytest.raises(AuditBroken) as refused:
        audit.record(other, actor="a", action="x", subject="s", at=NOW)
    assert f"sealed with key {KEY_ID}, which is not configured here" in str(refused.value)
    assert "nothing was recorded" in str(refused.value)
    assert _rows(engine) == before


def test_an_append_to_a_wound_back_head_is_refused_so_it_cannot_hide_the_removal(
    engine: Engine, session: Session
) -> None:
    _append(session, 4)
    kept = session.get(AuditEntry, 2)
    assert kept is not None
    session.commit()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM auditentry WHERE seq > 2"))
        conn.execute(text("UPDATE audithead SET seq = 2, hash = :h"), {"h": kept.hash})
    before = _rows(engine)
    session.expire_all()
    with pytest.raises(AuditBroken) as refused:
        audit.record(session, actor="a", action="x", subject="s", at=NOW)
    session.rollback()
    assert str(refused.value).startswith("the audit head row names entry 2 but its seal")
    assert _rows(engine) == before


def test_an_engine_without_a_key_refuses_to_write_an_unkeyed_entry(engine: Engine) -> None:
    keyless = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        with Session(keyless) as session, pytest.raises(AuditKeyMissing) as missing:
            audit.record(session, actor="a", action="x", subject="s", at=NOW)
    finally:
        keyless.dispose()
    assert "no audit key" in str(missing.value)
    assert _rows(engine) == ([], None)


def test_a_log_verifies_across_a_key_rotation_with_both_keys(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    new = "the next audit key, 0123456789abcdef012345"
    rotated = make_engine(url, audit_keys=AuditKeyring.derive(new, older=[AUDIT_KEY]))
    only_new = make_engine(url, audit_keys=AuditKeyring.derive(new))
    try:
        with Session(engine) as session:
            _append(session, 2)
        with Session(rotated) as session:
            _append(session, 2)
            result = audit.verify(session)
            assert (result.ok, result.checked) == (True, 4)
            assert result.key_ids == (KEY_ID, AuditKeyring.derive(new).current.key_id)
        with Session(only_new) as session:
            assert audit.verify(session).first_bad_seq == 1
    finally:
        rotated.dispose()
        only_new.dispose()


def _legacy_log(session: Session, n: int) -> list[AuditEntry]:
    """Rows exactly as the code wrote them before the chain was keyed."""
    prev, rows = audit.GENESIS, []
    for seq in range(1, n + 1):
        at = NOW + timedelta(seconds=seq)
        fields = {
            "seq": seq,
            "at": at,
            "actor": "alice@example.org",
            "action": "legacy.event",
            "subject": f"thing:{seq}",
            "details": audit.canonical_json({"seq": seq}),
        }
        digest = audit.entry_hash(**fields, prev=prev)  # type: ignore[arg-type]
        rows.append(AuditEntry(**fields, prev_hash=prev, hash=digest))
        prev = digest
    session.add_all(rows)
    session.add(AuditHead(id=1, seq=n, hash=prev))
    session.commit()
    return rows


def test_a_legacy_log_is_rekeyed_at_its_first_keyed_append(session: Session) -> None:
    legacy = _legacy_log(session, 3)
    not_yet = audit.verify(session)
    assert (not_yet.ok, not_yet.first_bad_seq, not_yet.unkeyed) == (False, 1, 3)
    assert "no re-keying entry follows them" in (not_yet.problem or "")

    audit.record(session, actor="bob@example.org", action="post.approve", subject="p", at=NOW)
    session.commit()

    rekeyed = session.get(AuditEntry, 4)
    assert rekeyed is not None
    assert (rekeyed.action, rekeyed.actor, rekeyed.key_id) == (audit.REKEYED, "system", KEY_ID)
    assert json.loads(rekeyed.details) == {
        "legacy_last_seq": 3,
        "legacy_last_hash": legacy[-1].hash,
    }
    result = audit.verify(session)
    assert result == audit.VerifyResult(
        ok=True, checked=5, unkeyed=3, rekeyed_at=4, key_ids=(KEY_ID,)
    )


def test_rekey_keys_a_legacy_log_once_and_leaves_others_alone(session: Session) -> None:
    assert audit.rekey(session, at=NOW) is None  # empty
    session.rollback()
    _legacy_log(session, 2)
    entry = audit.rekey(session, at=NOW)
    assert entry is not None and entry.seq == 3
    assert audit.rekey(session, at=NOW) is None  # keyed already
    session.commit()
    assert audit.verify(session).ok


def test_rewriting_the_legacy_part_after_the_rekeying_is_detected(
    engine: Engine, session: Session
) -> None:
    """The re-keying entry links to the last unkeyed hash under the key, so the plain-hash
    part cannot be recomputed either."""
    legacy = _legacy_log(session, 3)
    audit.rekey(session, at=NOW)
    session.commit()
    prev = audit.GENESIS
    with engine.begin() as conn:
        for row in legacy:
            actor = "mallory@example.org" if row.seq == 2 else row.actor
            digest = audit.entry_hash(
                seq=row.seq,
                at=row.at,
                actor=actor,
                action=row.action,
                subject=row.subject,
                details=row.details,
                prev=prev,
            )
            conn.execute(
                text("UPDATE auditentry SET actor = :a, prev_hash = :p, hash = :h WHERE seq = :s"),
                {"a": actor, "p": prev, "h": digest, "s": row.seq},
            )
            prev = digest
    session.expire_all()
    result = audit.verify(session)
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert result.problem == "entry 4 does not link to entry 3"


def test_a_keyed_chain_recomputed_as_unkeyed_is_named_where_the_keys_stop(
    engine: Engine, session: Session
) -> None:
    """Without the key, plain SHA-256 (as before keying) is all a forger can compute."""
    _append(session, 5)
    rows = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all()
    session.commit()
    prev = rows[1].hash
    with engine.begin() as conn:
        for row in rows[2:]:
            digest = audit.entry_hash(
                seq=row.seq,
                at=row.at,
                actor=row.actor,
                action=row.action,
                subject=row.subject,
                details=row.details,
                prev=prev,
            )
            conn.execute(
                text(
                    "UPDATE auditentry SET key_id = NULL, prev_hash = :p, hash = :h WHERE seq = :s"
                ),
                {"p": prev, "h": digest, "s": row.seq},
            )
            prev = digest
        conn.execute(
            text("UPDATE audithead SET hash = :h, key_id = NULL, seal = NULL"), {"h": prev}
        )
    session.expire_all()
    result = audit.verify(session)
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert result.problem == (
        "entry 3 has no key although the log had been keyed by then: it was rewritten "
        "without the key"
    )


def test_export_writes_one_checkable_json_line_per_entry(session: Session) -> None:
    _append(session, 3)
    out = io.StringIO()
    assert audit.export_jsonl(session, out) == 3
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3]
    assert lines[0]["details"] == {"i": 0, "note": "ünïcode ✓"}
    for line in lines:
        assert line["key_id"] == KEY_ID
        exported = AuditEntry(
            seq=line["seq"],
            at=datetime.fromisoformat(line["at"]),
            actor=line["actor"],
            action=line["action"],
            subject=line["subject"],
            details=audit.canonical_json(line["details"]),
            prev_hash=line["prev_hash"],
            hash=line["hash"],
        )
        assert line["hash"] == seal(exported, AUDIT_KEYS.current)


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
    assert (result.ok, result.checked) == (True, 60)


def test_a_rolled_back_append_leaves_no_gap(engine: Engine) -> None:
    with Session(engine) as session:
        audit.record(session, actor="a", action="x", subject="s", at=NOW)
        session.commit()
        audit.record(session, actor="a", action="lost", subject="s", at=NOW)
        session.rollback()
        audit.record(session, actor="a", action="kept", subject="s", at=NOW)
        session.commit()
        assert (audit.verify(session).ok, audit.verify(session).checked) == (True, 2)
