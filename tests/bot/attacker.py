"""Someone who holds the database but not the audit key: the owner's rights, no key.

On PostgreSQL the audit tables' triggers refuse UPDATE, DELETE and TRUNCATE; the owner of
the tables can switch them off, so the attacker does, for the one transaction they tamper
in. Tests use this to show what `audit verify` finds afterwards on both databases.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text

from approvals.db import make_engine
from approvals.records import audit

AUDIT_TABLES = ("auditentry", "audithead")


@contextmanager
def tampering(database_url: str) -> Iterator[Connection]:
    engine = make_engine(database_url)  # no audit key: the attacker does not have it
    try:
        with engine.begin() as conn:
            postgres = engine.dialect.name == "postgresql"
            if postgres:
                for table in AUDIT_TABLES:
                    conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            yield conn
            if postgres:
                for table in AUDIT_TABLES:
                    conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    finally:
        engine.dispose()


def entries(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(text("SELECT * FROM auditentry ORDER BY seq")).mappings().all()
    return [dict(row) for row in rows]


def head(conn: Connection) -> dict[str, Any]:
    return dict(conn.execute(text("SELECT * FROM audithead WHERE id = 1")).mappings().one())


def truncate_and_wind_back_head(conn: Connection, keep: int, *, seal: str | None) -> None:
    """Delete every entry after `keep` and point the head at entry `keep` with `seal`."""
    kept = conn.execute(text("SELECT hash FROM auditentry WHERE seq = :s"), {"s": keep}).one()
    conn.execute(text("DELETE FROM auditentry WHERE seq > :s"), {"s": keep})
    conn.execute(
        text("UPDATE audithead SET seq = :s, hash = :h, seal = :seal WHERE id = 1"),
        {"s": keep, "h": kept.hash, "seal": seal},
    )


def recompute_without_the_key(conn: Connection, *, start: int, edit: dict[str, str]) -> None:
    """Rewrite entry `start` with `edit` and recompute every hash from it on, as the code
    wrote them before the chain was keyed (plain SHA-256, no key id), head included: all
    anyone without the key can do."""
    rows = entries(conn)
    prev = rows[start - 2]["hash"] if start > 1 else audit.GENESIS
    for row in rows[start - 1 :]:
        if row["seq"] == start:
            row.update(edit)
        digest = audit.entry_hash(
            seq=row["seq"],
            at=_aware(row["at"]),
            actor=row["actor"],
            action=row["action"],
            subject=row["subject"],
            details=row["details"],
            prev=prev,
        )
        conn.execute(
            text(
                "UPDATE auditentry SET actor = :actor, details = :details, prev_hash = :prev, "
                "hash = :hash, key_id = NULL WHERE seq = :seq"
            ),
            {**row, "prev": prev, "hash": digest},
        )
        prev = digest
    conn.execute(
        text("UPDATE audithead SET hash = :h, key_id = NULL, seal = NULL WHERE id = 1"),
        {"h": prev},
    )


def _aware(value: datetime | str) -> datetime:
    """As the application reads it back: SQLite hands raw text, PostgreSQL a naive UTC time."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)
