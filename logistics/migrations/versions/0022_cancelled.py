"""A booking the merchant cancelled before any counter took it: the cancelled status.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # a native enum there; a string elsewhere
        op.execute("ALTER TYPE parcel_status ADD VALUE IF NOT EXISTS 'cancelled'")


def downgrade() -> None:
    pass  # PostgreSQL cannot drop an enum value; 'cancelled' stays in parcel_status, unused.
