"""governance depth: post tags and escalation level, pauses with an end and a two-person
resume, staff consultation on the guidance

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
down_revision: str | None = "0009"
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
    with op.batch_alter_table("guidanceversion", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consultation_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("signed_off_by", AutoString(), nullable=True))
        batch_op.add_column(sa.Column("answered_comments", sa.JSON(), nullable=True))
    op.create_table(
        "consultation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content_hash", AutoString(), nullable=False),
        sa.Column("opened_by", AutoString(), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("closes_at", UTCDateTime(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("signed_off_by", AutoString(), nullable=True),
        sa.Column("signed_off_at", UTCDateTime(), nullable=True),
        sa.Column("published_version_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "consultationcomment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", AutoString(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultation.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("consultationcomment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consultationcomment_consultation_id"), ["consultation_id"], unique=False
        )
    with op.batch_alter_table("globalpause", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ends_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("lift_requested_by", AutoString(), nullable=True))
        batch_op.add_column(sa.Column("lift_requested_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consultationcomment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultationcomment_consultation_id"))
    op.drop_table("consultationcomment")
    op.drop_table("consultation")
    with op.batch_alter_table("guidanceversion", schema=None) as batch_op:
        batch_op.drop_column("answered_comments")
        batch_op.drop_column("signed_off_by")
        batch_op.drop_column("consultation_id")
    with op.batch_alter_table("globalpause", schema=None) as batch_op:
        batch_op.drop_column("lift_requested_at")
        batch_op.drop_column("lift_requested_by")
        batch_op.drop_column("ends_at")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("pause_ends_at")
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_column("escalation_level")
        batch_op.drop_column("tags")
