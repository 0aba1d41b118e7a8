"""A postman's vehicle and hours, for planning the rounds.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vehicle", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("shift_start", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("shift_end", sa.String(length=5), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("shift_end")
        batch_op.drop_column("shift_start")
        batch_op.drop_column("vehicle")
