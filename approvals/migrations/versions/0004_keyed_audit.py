"""keyed audit chain; append-only audit tables on PostgreSQL

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 10:00:00

Entries get the id of the key that sealed them and the head row a seal. A migration holds
no key, so existing entries stay as they are (plain SHA-256, no key id): the application
re-keys the log at its first keyed append, or at `pressgate db upgrade`
(approvals/records/audit.py).

On PostgreSQL, triggers refuse UPDATE, DELETE and TRUNCATE of audit entries, and let the
head row only move forward to an entry that exists with that hash. They bind every role
but the tables' owner, who can drop them: run the application as another role (README,
"The audit log").
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION pressgate_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'pressgate: the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""

HEAD_FORWARD_ONLY = """
CREATE OR REPLACE FUNCTION pressgate_audit_head_forward_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.seq > OLD.seq AND EXISTS (
        SELECT 1 FROM auditentry WHERE seq = NEW.seq AND hash = NEW.hash
    ) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'pressgate: the audit head only moves forward to an appended entry: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""

TRIGGERS = [
    "CREATE TRIGGER auditentry_append_only BEFORE UPDATE OR DELETE ON auditentry "
    "FOR EACH ROW EXECUTE FUNCTION pressgate_audit_append_only()",
    "CREATE TRIGGER auditentry_no_truncate BEFORE TRUNCATE ON auditentry "
    "FOR EACH STATEMENT EXECUTE FUNCTION pressgate_audit_append_only()",
    "CREATE TRIGGER audithead_forward_only BEFORE UPDATE OR DELETE ON audithead "
    "FOR EACH ROW EXECUTE FUNCTION pressgate_audit_head_forward_only()",
    "CREATE TRIGGER audithead_no_truncate BEFORE TRUNCATE ON audithead "
    "FOR EACH STATEMENT EXECUTE FUNCTION pressgate_audit_append_only()",
]


def upgrade() -> None:
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table("audithead", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("seal", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY)
        op.execute(HEAD_FORWARD_ONLY)
        for trigger in TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, name in [
            ("audithead", "audithead_no_truncate"),
            ("audithead", "audithead_forward_only"),
            ("auditentry", "auditentry_no_truncate"),
            ("auditentry", "auditentry_append_only"),
        ]:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS pressgate_audit_head_forward_only()")
        op.execute("DROP FUNCTION IF EXISTS pressgate_audit_append_only()")
    with op.batch_alter_table("audithead", schema=None) as batch_op:
        batch_op.drop_column("seal")
        batch_op.drop_column("key_id")
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        batch_op.drop_column("key_id")
