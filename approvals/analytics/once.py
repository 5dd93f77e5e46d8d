"""Insert-if-absent on both databases: the primitive behind one-time claims and billed reads.

`INSERT ... ON CONFLICT DO NOTHING` says how many rows went in. Two workers inserting the
same key at once are serialised by the key itself (PostgreSQL makes the second wait for the
first to commit; SQLite has one writer at a time), so exactly one of them sees 1.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, SQLModel

from approvals.analytics.models import AnalyticsClaim


def insert_absent(session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]]) -> int:
    """Insert the rows whose primary key is not there yet; returns how many went in."""
    if not rows:
        return 0
    # Here, not at the top: the dialect packages take ~35 ms to load, and every command that
    # reads the database imports this module without inserting anything.
    from sqlalchemy.dialects import postgresql, sqlite

    table = model.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    key = next(iter(table.primary_key.columns))
    # RETURNING, not rowcount: psycopg reports -1 for a multi-row insert.
    statement = make(table).values(list(rows)).on_conflict_do_nothing().returning(key)
    return len(session.execute(statement).all())


def claim_once(session: Session, *, name: str, worker: str, now: datetime) -> bool:
    """True for exactly one caller per `name`, ever: it does the work, the others skip it."""
    row = {"name": name, "claimed_by": worker, "claimed_at": now}
    return insert_absent(session, AnalyticsClaim, [row]) == 1
