"""slack outbox: the notices written with the change they report, sent by a worker

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import approvals.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("queue", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("revision_no", sa.Integer(), nullable=True),
        sa.Column("revision_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("link_for", sa.Integer(), nullable=True),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("closes", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("blocks", sa.JSON(), nullable=True),
        sa.Column("dedupe_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", approvals.models.UTCDateTime(), nullable=False),
        sa.Column("due_at", approvals.models.UTCDateTime(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", approvals.models.UTCDateTime(), nullable=True),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("claim_until", approvals.models.UTCDateTime(), nullable=True),
        sa.Column("claim_token", sa.Integer(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("sent_at", approvals.models.UTCDateTime(), nullable=True),
        sa.Column("sent_channel", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("sent_ts", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["link_for"], ["person.id"]),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"]),
        sa.ForeignKeyConstraint(["target_id"], ["notice.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notice_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_notice_post_id"), ["post_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notice_queue"), ["queue"], unique=False)
        batch_op.create_index(batch_op.f("ix_notice_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_state"))
        batch_op.drop_index(batch_op.f("ix_notice_queue"))
        batch_op.drop_index(batch_op.f("ix_notice_post_id"))
        batch_op.drop_index(batch_op.f("ix_notice_due_at"))
    op.drop_table("notice")
