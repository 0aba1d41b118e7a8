"""A version being planned says when its job last showed signs of life (``heartbeat_at``), so
a job that died with its worker is known in about a minute instead of ten past its time limit.

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from logistics.models.types import UTCDateTime

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("day_plans") as batch:
        batch.add_column(sa.Column("heartbeat_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("day_plans") as batch:
        batch.drop_column("heartbeat_at")
