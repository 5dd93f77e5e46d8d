"""The policy of the map in force, read with the database driver alone (sqlite3 or psycopg).

`pressgate check` inside an installation judges a text by the map in force, but loading
SQLAlchemy, SQLModel and every model to read that one row took longer than the rest of
the check together. This reads the newest stored document directly, and only the part the
check reads of it (`MapPolicy`); `map_store` (the ORM) stays the one way everything else
reads and changes the map, and tests hold the two to the same answer on SQLite and on
PostgreSQL.
"""

import re
import sqlite3
from pathlib import Path

from approvals.content.policy_config import MapPolicy
from approvals.db_files import plain_sqlite_database

_NEWEST = "SELECT document FROM configversion ORDER BY id DESC LIMIT 1"
# The PostgreSQL URLs SQLAlchemy gives psycopg. What follows the scheme is libpq's own URI
# syntax (user:password@host:port/database?sslmode=…, percent-escapes decoded the same way;
# SQLAlchemy hands the query parameters to psycopg as they are), so the same text after
# libpq's scheme is a conninfo meaning the same connection.
_POSTGRES = re.compile(r"postgresql(?:\+psycopg)?://(?P<rest>.*)", re.DOTALL)


class NotPlainUrl(ValueError):
    """A database URL in a form this reader leaves to SQLAlchemy: another driver, or a
    SQLite URL with a query string or escapes. SQLAlchemy reads it, or refuses it, as every
    other command does."""


class DatabaseUnreadable(Exception):
    """The database is there but could not be read: the driver's own error, and whether it
    came while connecting (a server down or refusing) or from the query."""

    def __init__(self, driver_error: Exception, *, connecting: bool) -> None:
        super().__init__(str(driver_error))
        self.driver_error = driver_error
        self.connecting = connecting


def read_policy_in_force(database_url: str, *, busy_timeout: float) -> MapPolicy | None:
    """The policy of the newest map stored in the database; None when there is none: no
    SQLite file, no tables yet (not migrated), or no map loaded.

    Raises NotPlainUrl for a URL this reader does not parse, DatabaseUnreadable when the
    database cannot be reached or read. Never creates, and never writes to, a database."""
    database = plain_sqlite_database(database_url)
    if database is not None:
        document = _sqlite_document(database, busy_timeout)
    else:
        postgres = _POSTGRES.fullmatch(database_url)
        if postgres is None:
            raise NotPlainUrl("neither a plain SQLite URL nor one for psycopg")
        document = _postgres_document(f"postgresql://{postgres['rest']}")
    return None if document is None else MapPolicy.model_validate_json(document)


def is_missing_table(driver_error: BaseException | None) -> bool:
    """Whether a driver's error says the table is not there (the database not migrated)."""
    sqlstate = getattr(driver_error, "sqlstate", None)
    return sqlstate == "42P01" or str(driver_error).startswith("no such table")


def _sqlite_document(database: str, busy_timeout: float) -> str | None:
    """Opened read-write but never created (mode=rw), and made query-only: a read-only
    connection (mode=ro) cannot remove the WAL files it makes, so every check would leave
    two new files beside the database; this closes as any pressgate process does."""
    if database in ("", ":memory:") or not Path(database).exists():
        return None  # a database made anew for each connection, or none: no map
    uri = f"{Path(database).resolve().as_uri()}?mode=rw"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=busy_timeout)
    except sqlite3.Error as error:
        raise DatabaseUnreadable(error, connecting=True) from error
    try:
        connection.execute("PRAGMA query_only = ON")
        row = connection.execute(_NEWEST).fetchone()
    except sqlite3.Error as error:
        if is_missing_table(error):
            return None
        raise DatabaseUnreadable(error, connecting=False) from error
    finally:
        connection.close()
    return None if row is None else str(row[0])


def _postgres_document(conninfo: str) -> str | None:
    import psycopg  # only PostgreSQL installations pay for loading it
    from psycopg.conninfo import conninfo_to_dict

    try:
        ports = str(conninfo_to_dict(conninfo).get("port") or "")
    except psycopg.ProgrammingError:  # let SQLAlchemy say what is wrong, as elsewhere
        raise NotPlainUrl("libpq cannot parse it") from None
    if not all(port.isdigit() for port in ports.split(",") if port):
        raise NotPlainUrl("a port that is not a number")  # SQLAlchemy refuses it, so must we
    try:
        connection = psycopg.connect(conninfo, autocommit=True)
    except psycopg.Error as error:
        raise DatabaseUnreadable(error, connecting=True) from error
    with connection:
        try:
            row = connection.execute(_NEWEST).fetchone()
        except psycopg.Error as error:
            if is_missing_table(error):
                return None
            raise DatabaseUnreadable(error, connecting=False) from error
    return None if row is None else str(row[0])
