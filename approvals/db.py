"""Engines and sessions for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode and every transaction starts with BEGIN IMMEDIATE: writers queue
for the lock up front instead of failing half way when two of them upgrade a read lock.
Work that only reads (pages, exports, `audit verify`) goes through `read_only_engine(engine)`,
which begins a plain deferred transaction and so never waits for, or blocks, a writer.

Lock order. On PostgreSQL, rows are locked in one order everywhere, so no two transactions
can wait for each other: an account row (claims), then post rows (one per transaction,
except a claim that sets aside blocked posts of the account it holds), then the
global-pause row, then a stray-copy row, then the audit head, always last (every audited
change appends to the log at the end of its transaction). A job that touches many posts
(reminders) commits each one separately rather than holding the audit head across them.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from approvals.db_files import sqlite_file as sqlite_file  # re-exported
from approvals.records.audit_keys import ENGINE_OPTION, AuditKeyring

SQLITE_BUSY_TIMEOUT_S = 30.0
# Ids are INTEGER columns: 64 bits on SQLite but 32 on PostgreSQL, so no row of either can
# have an id above this, and a larger one must be refused before it reaches a driver.
MAX_ID = 2**31 - 1
_READ_ONLY = "pressgate_read_only"
VIA = "pressgate_via"  # Session.info key: the door a unit of work came through


def make_engine(
    url: str,
    *,
    busy_timeout: float = SQLITE_BUSY_TIMEOUT_S,
    audit_keys: AuditKeyring | None = None,
    **kwargs: Any,
) -> Engine:
    """An engine for `url`; on SQLite a writer waits `busy_timeout` seconds for the lock;
    `audit_keys` lets its sessions seal and check audit entries (without a keyring the
    engine can still migrate and read, but `audit.record()` refuses).

    Nothing is created here: SQLite makes a missing file on first connect, so callers that
    must not create a database check `sqlite_file(url)` first.
    """
    if audit_keys is not None:
        kwargs["execution_options"] = {
            **kwargs.get("execution_options", {}),
            ENGINE_OPTION: audit_keys,
        }
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"timeout": busy_timeout, "check_same_thread": False},
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below take over
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        read_only = conn.get_execution_options().get(_READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def transaction_memo(session: Session, name: str) -> dict[Any, Any]:
    """A dict that lives as long as the session's current transaction: what one unit of
    work reads again and again (the map in force, a post's revision) is read once in it,
    and the next transaction starts empty, so nothing outlives the view it was read in."""
    transaction = session.get_transaction()
    if transaction is None:
        session.connection()  # begin now: the memo belongs to the transaction
        transaction = session.get_transaction()
    held: tuple[Any, dict[Any, Any]] | None = session.info.get(name)
    if held is None or held[0] is not transaction:
        held = session.info[name] = (transaction, {})
    return held[1]


def read_only_engine(engine: Engine) -> Engine:
    """The same engine and pool, for transactions that will not write."""
    return engine.execution_options(**{_READ_ONLY: True})


@contextmanager
def session_scope(
    engine: Engine, *, read_only: bool = False, via: str | None = None
) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error.

    `via` names the door a change came through ("cli", "web", "slack"); every audit entry
    written in the unit records it, so no service function needs to be told.
    """
    bind = read_only_engine(engine) if read_only else engine
    with Session(bind, expire_on_commit=False) as session:
        if via is not None:
            session.info[VIA] = via
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
