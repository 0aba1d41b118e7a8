"""A parcel's recipient area (an area code of logistics/data/dhaka_areas.csv).

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("parcels") as batch:
        batch.add_column(sa.Column("recipient_area", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("parcels") as batch:
        batch.drop_column("recipient_area")
