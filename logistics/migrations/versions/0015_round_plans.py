"""Rounds planned by the routing core's last-mile mode: which postman takes which parcel, in
what order, arriving when, and where each point came from.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from logistics.models.types import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "round_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "planning", "done", "failed", name="round_plan_status", native_enum=False, length=24
            ),
            nullable=False,
        ),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("distance_m", sa.Integer(), nullable=True),
        sa.Column("left_over", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_round_plans_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_round_plans_office_id_offices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_plans")),
    )
    op.create_index("ix_round_plans_office_day", "round_plans", ["office_id", "day"])
    op.create_table(
        "round_plan_stops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("parcel_id", sa.Integer(), nullable=False),
        sa.Column("courier_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("eta_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("precision", sa.String(length=12), nullable=False),
        sa.Column("lat", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("lon", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("reason", sa.String(length=24), nullable=True),
        sa.ForeignKeyConstraint(
            ["courier_id"], ["users.id"], name=op.f("fk_round_plan_stops_courier_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["parcel_id"],
            ["parcels.id"],
            name=op.f("fk_round_plan_stops_parcel_id_parcels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["round_plans.id"], name=op.f("fk_round_plan_stops_plan_id_round_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_plan_stops")),
    )


def downgrade() -> None:
    op.drop_table("round_plan_stops")
    op.drop_index("ix_round_plans_office_day", table_name="round_plans")
    op.drop_table("round_plans")
