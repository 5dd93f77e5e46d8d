"""On PostgreSQL the audit tables refuse to be rewritten: the migration's triggers refuse
UPDATE, DELETE and TRUNCATE of entries and let the head only move forward, and the role the
README has the application run as can append but can neither rewrite nor unguard the log."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from approvals.db import make_engine
from tests.bot.conftest import Cli, every_row, make_cli
from tests.factories import REPO

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
]
APP_ROLE_SQL = REPO / "deploy" / "postgres-app-role.sql"


def _refusal(database_url: str, statement: str) -> str:
    engine = make_engine(database_url)
    try:
        with pytest.raises(DBAPIError) as refused, engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()
    return str(refused.value.orig).splitlines()[0]


def _history(cli: Cli) -> None:
    post = cli.json("draft", "--as", "alice@example.org", "-a", "@DeptHelp", "--text", "Hello")
    cli.ok("submit", str(post["id"]), "--as", "alice@example.org")
    cli.ok("approve", str(post["id"]), "--as", "hana@example.org")


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "UPDATE auditentry SET actor = 'mallory@example.org' WHERE seq = 2",
            "pressgate: the audit log is append-only: UPDATE on auditentry refused",
        ),
        (
            "DELETE FROM auditentry WHERE seq > 1",
            "pressgate: the audit log is append-only: DELETE on auditentry refused",
        ),
        (
            "TRUNCATE auditentry",
            "pressgate: the audit log is append-only: TRUNCATE on auditentry refused",
        ),
        (
            "UPDATE audithead SET seq = 1, hash = (SELECT hash FROM auditentry WHERE seq = 1)",
            "pressgate: the audit head only moves forward to an appended entry: UPDATE refused",
        ),
        (
            "DELETE FROM audithead",
            "pressgate: the audit head only moves forward to an appended entry: DELETE refused",
        ),
        (
            "TRUNCATE audithead",
            "pressgate: the audit log is append-only: TRUNCATE on audithead refused",
        ),
    ],
)
def test_the_audit_tables_refuse_to_be_rewritten_even_by_their_owner(
    cli: Cli, statement: str, message: str
) -> None:
    _history(cli)
    before = every_row(cli)

    assert _refusal(cli.settings.database_url, statement) == message

    assert every_row(cli) == before
    _history(cli)  # appends still move the head forward
    assert cli.json("audit", "verify")["ok"] is True


@pytest.fixture
def app_role(cli: Cli) -> Iterator[str]:
    """A login role granted exactly what deploy/postgres-app-role.sql grants."""
    role = f"pressgate_app_{uuid.uuid4().hex[:8]}"
    owner = cli.engine
    grants = APP_ROLE_SQL.read_text(encoding="utf-8").replace("pressgate_app", role)
    with owner.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        conn.exec_driver_sql(grants)
    yield role
    with owner.begin() as conn:
        conn.execute(text(f'DROP OWNED BY "{role}"'))
        conn.execute(text(f'DROP ROLE "{role}"'))
    owner.dispose()


def test_the_application_role_appends_but_cannot_rewrite_or_unguard_the_log(
    cli: Cli, app_role: str, tmp_path: Path
) -> None:
    as_app_url = make_url(cli.settings.database_url).set(username=app_role).render_as_string(False)
    as_app = make_cli(as_app_url, tmp_path)
    as_app.ok("init")  # what `pressgate run` does at start: nothing to change
    _history(as_app)
    assert as_app.json("audit", "verify")["ok"] is True
    as_app.ok("audit", "anchor")
    before = every_row(cli)

    for statement, message in [
        ("UPDATE auditentry SET actor = 'x'", "permission denied for table auditentry"),
        ("DELETE FROM auditentry", "permission denied for table auditentry"),
        ("TRUNCATE auditentry", "permission denied for table auditentry"),
        ("ALTER TABLE auditentry DISABLE TRIGGER USER", "must be owner of table auditentry"),
        (
            "DROP TRIGGER auditentry_append_only ON auditentry",
            "must be owner of relation auditentry",
        ),
        ("ALTER TABLE audithead DISABLE TRIGGER USER", "must be owner of table audithead"),
        (
            "UPDATE audithead SET seq = 1, hash = (SELECT hash FROM auditentry WHERE seq = 1)",
            "pressgate: the audit head only moves forward to an appended entry: UPDATE refused",
        ),
        ("DELETE FROM audithead", "permission denied for table audithead"),
        ("UPDATE alembic_version SET version_num = '0001'", "permission denied"),
    ]:
        assert message in _refusal(as_app_url, statement), statement

    assert every_row(cli) == before
