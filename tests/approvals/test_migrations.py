"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from approvals.migrate import alembic_config, current_revision, upgrade
from approvals.models import AuditHead
from approvals.records import audit
from tests.conftest import NOW


def _empty(engine: Engine) -> Engine:
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    return engine


def test_upgrade_to_head_matches_the_models(engine: Engine) -> None:
    upgrade(_empty(engine))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []
    assert current_revision(engine) is not None


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    upgrade(_empty(engine))
    upgrade(engine)
    assert current_revision(engine) is not None


def test_a_migrated_database_starts_an_intact_audit_chain(engine: Engine) -> None:
    upgrade(_empty(engine))
    with Session(engine) as session:
        head = session.get(AuditHead, 1)
        assert head is not None and head.seq == 0
        audit.record(session, actor="system", action="test", subject="x", at=NOW)
        session.commit()
        assert audit.verify(session).ok


def test_the_keyed_audit_migration_downgrades_and_upgrades_again(engine: Engine) -> None:
    upgrade(_empty(engine))
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0003")
    assert current_revision(engine) == "0003"
    assert "key_id" not in {c["name"] for c in inspect(engine).get_columns("auditentry")}
    upgrade(engine)
    assert current_revision(engine) == ScriptDirectory.from_config(cfg).get_current_head()
    with Session(engine) as session:
        audit.record(session, actor="system", action="test", subject="x", at=NOW)
        session.commit()
        assert audit.verify(session).ok
