"""governance depth: post tags and escalation level, pauses with an end and a two-person
resume

Revision ID: 0011
Revises: 0007
Create Date: 2026-11-30 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

from approvals.models import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tags", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("escalation_level", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pause_ends_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("globalpause", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ends_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("lift_requested_by", AutoString(), nullable=True))
        batch_op.add_column(sa.Column("lift_requested_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("globalpause", schema=None) as batch_op:
        batch_op.drop_column("lift_requested_at")
        batch_op.drop_column("lift_requested_by")
        batch_op.drop_column("ends_at")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("pause_ends_at")
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_column("escalation_level")
        batch_op.drop_column("tags")
