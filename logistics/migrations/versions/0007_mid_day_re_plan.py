"""Mid-day re-plan: a version made from the published one keeps the stops already made as
frozen history, remembers the moment it plans from and the scans it saw.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("day_plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("as_of", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("scan_mark", sa.String(length=40), nullable=False, server_default="")
        )
    with op.batch_alter_table("plan_stops", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("frozen", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("plan_stops", schema=None) as batch_op:
        batch_op.drop_column("frozen")
    with op.batch_alter_table("day_plans", schema=None) as batch_op:
        batch_op.drop_column("scan_mark")
        batch_op.drop_column("as_of")
