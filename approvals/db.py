"""Engines and sessions for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode and every transaction starts with BEGIN IMMEDIATE: writers queue
for the lock up front instead of failing half way when two of them upgrade a read lock.
Work that only reads (pages, exports, `audit verify`) goes through `read_only_engine(engine)`,
which begins a plain deferred transaction and so never waits for, or blocks, a writer.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from approvals.audit_keys import ENGINE_OPTION, AuditKeyring

SQLITE_BUSY_TIMEOUT_S = 30
_READ_ONLY = "pressgate_read_only"


def make_engine(url: str, *, audit_keys: AuditKeyring | None = None, **kwargs: Any) -> Engine:
    """An engine for `url`; `audit_keys` lets its sessions seal and check audit entries.

    Without a keyring the engine can still migrate and read, but `audit.record()` refuses.
    """
    if audit_keys is not None:
        kwargs["execution_options"] = {
            **kwargs.get("execution_options", {}),
            ENGINE_OPTION: audit_keys,
        }
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
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


def read_only_engine(engine: Engine) -> Engine:
    """The same engine and pool, for transactions that will not write."""
    return engine.execution_options(**{_READ_ONLY: True})


@contextmanager
def session_scope(engine: Engine, *, read_only: bool = False) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    bind = read_only_engine(engine) if read_only else engine
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
