"""The best plan so far while a version is computed: loads routed out of all, and vans used,
for the planner's progress bar.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("day_plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("best_routed", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("best_jobs", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("best_vans", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("day_plans", schema=None) as batch_op:
        batch_op.drop_column("best_vans")
        batch_op.drop_column("best_jobs")
        batch_op.drop_column("best_routed")
