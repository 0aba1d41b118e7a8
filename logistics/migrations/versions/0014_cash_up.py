"""The end of an office's day: the cash-up per person, and who closed the day.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from logistics.models.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cash_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("closed_by_id", sa.Integer(), nullable=False),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_cash_ups_closed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_cash_ups_office_id_offices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cash_ups")),
        sa.UniqueConstraint("office_id", "day", name="uq_cash_up_office_day"),
    )
    op.create_table(
        "cash_up_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cash_up_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("intake_cash_poisha", sa.Integer(), nullable=False),
        sa.Column("cod_cash_poisha", sa.Integer(), nullable=False),
        sa.Column("airtime_poisha", sa.Integer(), nullable=False),
        sa.Column("handed_in_poisha", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cash_up_id"], ["cash_ups.id"], name=op.f("fk_cash_up_lines_cash_up_id_cash_ups")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_cash_up_lines_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cash_up_lines")),
    )


def downgrade() -> None:
    op.drop_table("cash_up_lines")
    op.drop_table("cash_ups")
