"""An office's rounds being planned and a bulk upload being checked or booked say when their
job last showed signs of life (``heartbeat_at``), and an upload when its job was last queued
(``queued_at``): a job that died with its worker is known in about a minute (a plan is shown
failed, an upload's job is queued again) instead of never.

Revision ID: 0034
Revises: 0033
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from logistics.models.types import UTCDateTime

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("round_plans") as batch:
        batch.add_column(sa.Column("heartbeat_at", UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("bulk_uploads") as batch:
        batch.add_column(sa.Column("queued_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bulk_uploads") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("queued_at")
    with op.batch_alter_table("round_plans") as batch:
        batch.drop_column("heartbeat_at")
