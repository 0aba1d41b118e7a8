"""Returns to sender (the returning status, since when and why) and the out-for-delivery scan
(a round's stop scanned into the postman's bag, with the recipient's window).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from logistics.models.types import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # a native enum there; a string elsewhere
        op.execute("ALTER TYPE parcel_status ADD VALUE IF NOT EXISTS 'returning'")
    with op.batch_alter_table("parcels") as batch:
        batch.add_column(sa.Column("returning_since", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("return_reason", sa.String(length=24), nullable=True))
    with op.batch_alter_table("round_parcels") as batch:
        batch.add_column(sa.Column("scanned_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("window_start_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("window_end_at", UTCDateTime(timezone=True), nullable=True))
    # Rounds made before this revision went out at once: their stops count as scanned then.
    op.execute(
        "UPDATE round_parcels SET scanned_at = (SELECT created_at FROM delivery_rounds"
        " WHERE delivery_rounds.id = round_parcels.round_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("round_parcels") as batch:
        batch.drop_column("window_end_at")
        batch.drop_column("window_start_at")
        batch.drop_column("scanned_at")
    with op.batch_alter_table("parcels") as batch:
        batch.drop_column("return_reason")
        batch.drop_column("returning_since")
    # PostgreSQL cannot drop an enum value; 'returning' stays in parcel_status, unused.
