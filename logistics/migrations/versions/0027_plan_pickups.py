"""Pickups as calls of the van plan: a route's call at a merchant's door.

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from logistics.models.types import UTCDateTime

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_pickups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("route_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("after_seq", sa.Integer(), nullable=False),
        sa.Column("arrives_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("departs_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("load_parcels", sa.Integer(), nullable=False),
        sa.Column("load_g", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["pickup_requests.id"],
            name=op.f("fk_plan_pickups_request_id_pickup_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["route_id"],
            ["plan_routes.id"],
            name=op.f("fk_plan_pickups_route_id_plan_routes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_pickups")),
    )
    op.create_index("ix_plan_pickups_request", "plan_pickups", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_plan_pickups_request", table_name="plan_pickups")
    op.drop_table("plan_pickups")
