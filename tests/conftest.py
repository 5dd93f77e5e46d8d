"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL, a frozen clock,
and an organisation (permission map) loaded into it.

PostgreSQL comes from PRESSGATE_TEST_POSTGRES_URL (default: the local server's `test`
database). Each test session gets its own database on that server. Outside CI a missing
server skips the PostgreSQL half; in CI (CI=true) it fails the run.
"""

import logging
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel

import approvals.models  # noqa: F401  (registers tables)
from approvals.clock import FrozenClock
from approvals.db import make_engine
from bot.logs import configure_logging
from tests.factories import AUDIT_KEYS, Org, load_org

POSTGRES_URL = os.environ.get(
    "PRESSGATE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _postgres_unavailable(reason: str) -> None:
    message = f"PostgreSQL is needed at {POSTGRES_URL}: {reason}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A database of our own on the PostgreSQL server, dropped at the end of the session."""
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"pressgate_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # unreachable server, bad credentials
        admin.dispose()
        _postgres_unavailable(f"{type(exc).__name__}: {exc}")
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_engine(postgres_server_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_server_url, audit_keys=AUDIT_KEYS)
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


def reset_tables(engine: Engine) -> None:
    """Empty every table (faster than recreating the schema, which matters on PostgreSQL).

    On PostgreSQL a migrated schema refuses TRUNCATE of the audit tables (its triggers);
    only test code may switch triggers off, here for this one transaction.
    """
    tables = SQLModel.metadata.sorted_tables
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(table.delete())


def drop_schema(engine: Engine) -> None:
    """No tables at all, so `pressgate init` or `upgrade()` builds the schema as users get it."""
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[Engine]:
    """A fresh, empty schema on each database kind."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path}/pressgate.db", audit_keys=AUDIT_KEYS)
        SQLModel.metadata.create_all(eng)
        yield eng
        eng.dispose()
    else:
        eng = request.getfixturevalue("postgres_engine")
        if inspect(eng).has_table("alembic_version"):
            drop_schema(eng)  # a migrated schema (from a CLI test) has the audit triggers
        SQLModel.metadata.create_all(eng)  # a test may have dropped the schema; cheap if not
        reset_tables(eng)
        yield eng


@pytest.fixture
def sqlite_engine(tmp_path: os.PathLike[str]) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path}/pressgate.db", audit_keys=AUDIT_KEYS)
    SQLModel.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def org(session: Session, clock: FrozenClock) -> Org:
    """The example press office's map in force, people and accounts in the database."""
    return load_org(session, clock)


@pytest.fixture
def debug_logging(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Logging as `pressgate run` sets it up at DEBUG, put back as it was afterwards."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    configure_logging("DEBUG")  # replaces the root handlers, pytest's among them
    root.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
