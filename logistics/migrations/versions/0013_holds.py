"""Parcels held at the delivery office for collection (the code's digest, tries, lock, until
when, the collection); the held status.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from logistics.models.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # a native enum there; a string elsewhere
        op.execute("ALTER TYPE parcel_status ADD VALUE IF NOT EXISTS 'held'")
    op.create_table(
        "parcel_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parcel_id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("code_tries", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("held_by_id", sa.Integer(), nullable=True),
        sa.Column("held_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("until_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("collected_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("collected_by_id", sa.Integer(), nullable=True),
        sa.Column("cod_cash_poisha", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collected_by_id"], ["users.id"], name=op.f("fk_parcel_holds_collected_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["held_by_id"], ["users.id"], name=op.f("fk_parcel_holds_held_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_parcel_holds_office_id_offices")
        ),
        sa.ForeignKeyConstraint(
            ["parcel_id"],
            ["parcels.id"],
            name=op.f("fk_parcel_holds_parcel_id_parcels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parcel_holds")),
        sa.UniqueConstraint("parcel_id", name=op.f("uq_parcel_holds_parcel_id")),
    )


def downgrade() -> None:
    # PostgreSQL cannot drop an enum value; 'held' stays in parcel_status, unused.
    op.drop_table("parcel_holds")
