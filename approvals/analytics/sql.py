"""Dates in SQL that read the same on SQLite and PostgreSQL: day, month, hour.

The dashboard groups in the database (one aggregate query per figure, never a query per
row), so the parts of a timestamp must be taken in SQL. Timestamps are stored as naive UTC,
so every figure grouped by time is in UTC, and says so.

Constants are written into the SQL (`literal_column`), not bound: PostgreSQL takes
`to_char(at, $1)` in the select list and `to_char(at, $2)` in GROUP BY for two expressions.
"""

from typing import Any

from sqlalchemy import Integer, cast, extract, func, literal_column
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session


def _sql(text: str) -> ColumnElement[Any]:
    return literal_column(text)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def day(session: Session, column: Any) -> ColumnElement[Any]:
    """YYYY-MM-DD."""
    if _postgres(session):
        return func.to_char(column, _sql("'YYYY-MM-DD'"))
    return func.substr(column, 1, 10)  # stored as text "YYYY-MM-DD HH:MM:SS.ffffff"


def month(session: Session, column: Any) -> ColumnElement[Any]:
    """YYYY-MM."""
    if _postgres(session):
        return func.to_char(column, _sql("'YYYY-MM'"))
    return func.substr(column, 1, 7)


def hour(session: Session, column: Any) -> ColumnElement[Any]:
    """0-23."""
    if _postgres(session):
        return cast(extract("hour", column), Integer)
    return cast(func.substr(column, 12, 2), Integer)
