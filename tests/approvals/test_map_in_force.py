"""The policy of the map in force read with the database driver alone (what `pressgate
check` uses) is the policy of the map the ORM has in force, with the same personal handles,
on SQLite and on PostgreSQL; no map is None; a SQLite database is never created nor left
with new files beside it; a database that cannot be read says so."""

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from approvals.config import config_from_dict
from approvals.content.policy import personal_handles
from approvals.content.policy_config import PolicyConfig, PolicySource
from approvals.map_in_force import DatabaseUnreadable, NotPlainUrl, read_policy_in_force
from approvals.map_store import current_map
from tests.bot.conftest import free_port
from tests.conftest import drop_schema
from tests.factories import Org, small_config

SQLITE_ONLY = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
POSTGRES_ONLY = pytest.mark.parametrize(
    "engine", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _read(url: str) -> PolicySource | None:
    return read_policy_in_force(url, busy_timeout=5.0)


def _as_checked(source: PolicySource | None) -> tuple[PolicyConfig, list[str]] | None:
    """What the content check reads of a map."""
    return None if source is None else (source.policy, sorted(personal_handles(source)))


def test_the_newest_version_is_read_as_the_orm_has_it_in_force(org: Org, engine: Engine) -> None:
    stricter = small_config(policy={"blocked_terms": ["synergy"], "max_hashtags": 1})
    stricter["people"][0]["personal_handles"] = ["@alice_at_home"]
    org.apply(stricter)
    org.session.commit()
    read = _as_checked(_read(_url(engine)))
    assert read == _as_checked(config_from_dict(stricter))
    assert read == _as_checked(current_map(org.session).config)
    assert read is not None and read[0].blocked_terms == ["synergy"]
    assert read[1] == ["@MinisterOwn", "@alice_at_home"]


def test_a_database_with_no_map_loaded_has_none(engine: Engine) -> None:
    assert _read(_url(engine)) is None


def test_a_database_not_migrated_yet_has_none(engine: Engine) -> None:
    drop_schema(engine)
    assert _read(_url(engine)) is None


def test_no_sqlite_file_is_no_map_and_no_file_is_made(tmp_path: Path) -> None:
    missing = tmp_path / "var" / "pressgate.db"
    assert _read(f"sqlite:///{missing}") is None
    assert _read("sqlite:///:memory:") is None
    assert list(tmp_path.iterdir()) == []


@SQLITE_ONLY
def test_reading_leaves_the_sqlite_files_as_they_were(
    org: Org, engine: Engine, tmp_path: Path
) -> None:
    """A read-only connection would leave the -wal and -shm files of WAL mode behind."""
    org.session.close()
    engine.dispose()  # the last connection closed: only the database file remains
    before = sorted(p.name for p in tmp_path.iterdir())
    assert _as_checked(_read(_url(engine))) == _as_checked(config_from_dict(small_config()))
    assert sorted(p.name for p in tmp_path.iterdir()) == before == ["pressgate.db"]


def test_a_file_that_is_not_a_database_is_unreadable_and_left_alone(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping: milk, eggs\n")
    with pytest.raises(DatabaseUnreadable) as raised:
        _read(f"sqlite:///{notes}")
    assert isinstance(raised.value.driver_error, sqlite3.DatabaseError)
    assert not raised.value.connecting
    assert notes.read_text() == "shopping: milk, eggs\n"


@pytest.mark.parametrize(
    "url",
    [
        "mysql://pressgate@localhost/pressgate",
        "postgresql+asyncpg://db.example/pressgate",
        "sqlite:///var/pressgate.db?timeout=3",
        "postgresql+psycopg://pressgate@db.example:notaport/pressgate",
    ],
)
def test_a_url_of_another_form_is_left_to_sqlalchemy(url: str) -> None:
    with pytest.raises(NotPlainUrl):
        _read(url)


@pytest.mark.postgres
def test_an_unreachable_postgresql_is_unreadable_at_connecting() -> None:
    url = f"postgresql+psycopg://pressgate:secret@127.0.0.1:{free_port()}/pressgate"
    with pytest.raises(DatabaseUnreadable) as raised:
        _read(url)
    assert raised.value.connecting


@POSTGRES_ONLY
def test_the_query_parameters_of_a_postgresql_url_reach_the_connection(
    org: Org, engine: Engine
) -> None:
    """SQLAlchemy passes them to psycopg (sslmode=…, options=…); so does this reader. Here
    a search path without pressgate's tables hides the map."""
    url = _url(engine)
    assert _as_checked(_read(url)) == _as_checked(config_from_dict(small_config()))
    assert _read(f"{url}?options=-c%20search_path%3Dnowhere") is None
    assert _read(f"{url}?sslmode=disable&application_name=check") is not None
