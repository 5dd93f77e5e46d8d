"""Which file a SQLite database URL names, answered without loading SQLAlchemy.

Commands that may not need the database at all (`pressgate check` outside an installation)
ask this first; importing SQLAlchemy costs more than the whole command otherwise.
"""

import re
from pathlib import Path

# The form pressgate writes and documents: sqlite:///relative/path or sqlite:////abs/path.
# Anything else (a query string, escapes, a host) is left to SQLAlchemy's own parser.
_PLAIN_SQLITE = re.compile(r"sqlite(?:\+pysqlite)?:///(?P<database>[^?%@#]*)")


def plain_sqlite_database(url: str) -> str | None:
    """The database part of a SQLite URL of the plain form ("" or ":memory:" for an
    in-memory one); None for any other URL."""
    plain = _PLAIN_SQLITE.fullmatch(url)
    return None if plain is None else plain["database"]


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names; None for PostgreSQL and in-memory SQLite.

    Raises SQLAlchemy's ArgumentError for a string that is no database URL."""
    database = plain_sqlite_database(url)
    if database is not None:
        return None if database in ("", ":memory:") else Path(database)
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)
