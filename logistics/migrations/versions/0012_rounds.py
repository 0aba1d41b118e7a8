"""Delivery rounds: a courier's parcels out in a window, each with its outcome, handover code
digest and COD cash; the courier role.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from logistics.models.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # a native enum there; a string elsewhere
        op.execute("ALTER TYPE user_role ADD VALUE IF NOT EXISTS 'courier'")
    op.create_table(
        "delivery_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("courier_id", sa.Integer(), nullable=False),
        sa.Column("window_start_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_end_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum("out", "closed", name="round_status", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["courier_id"], ["users.id"], name=op.f("fk_delivery_rounds_courier_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_delivery_rounds_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_delivery_rounds_office_id_offices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_rounds")),
    )
    op.create_index("ix_delivery_rounds_courier", "delivery_rounds", ["courier_id", "status"])
    op.create_table(
        "round_parcels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("parcel_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "pending", "delivered", "failed", name="stop_outcome", native_enum=False, length=24
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=24), nullable=True),
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("code_tries", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("cod_cash_poisha", sa.Integer(), nullable=False),
        sa.Column("done_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["parcel_id"],
            ["parcels.id"],
            name=op.f("fk_round_parcels_parcel_id_parcels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["delivery_rounds.id"],
            name=op.f("fk_round_parcels_round_id_delivery_rounds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_parcels")),
        sa.UniqueConstraint("round_id", "parcel_id", name="uq_round_parcel"),
    )


def downgrade() -> None:
    # PostgreSQL cannot drop an enum value; 'courier' stays in user_role, unused.
    op.drop_table("round_parcels")
    op.drop_index("ix_delivery_rounds_courier", table_name="delivery_rounds")
    op.drop_table("delivery_rounds")
