"""the month's X spend as running totals, in all and per account, for the budget check

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No rows: a month's first billed call after the upgrade starts its total from the ledger.
    op.create_table(
        "xspendmonth",
        sa.Column("month", AutoString(), nullable=False),
        sa.Column("scope", AutoString(), nullable=False),
        sa.Column("micros", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", "scope"),
    )


def downgrade() -> None:
    op.drop_table("xspendmonth")
