"""The recipient's side of the tracking page: codes sent to their phone, their delivery pin and
window; the window of an out-for-delivery event; an office's phone.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import logistics.models.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recipient_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parcel_id", sa.Integer(), nullable=False),
        sa.Column("msisdn", sa.String(length=16), nullable=False),
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", logistics.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", logistics.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("verified_at", logistics.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["parcel_id"],
            ["parcels.id"],
            name=op.f("fk_recipient_codes_parcel_id_parcels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipient_codes")),
    )
    op.create_index(
        "ix_recipient_codes_parcel", "recipient_codes", ["parcel_id", "created_at"], unique=False
    )
    op.create_table(
        "delivery_preferences",
        sa.Column("parcel_id", sa.Integer(), nullable=False),
        sa.Column("lat", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("lon", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("window", sa.String(length=8), nullable=True),
        sa.Column("msisdn", sa.String(length=16), nullable=False),
        sa.Column("updated_at", logistics.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parcel_id"],
            ["parcels.id"],
            name=op.f("fk_delivery_preferences_parcel_id_parcels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("parcel_id", name=op.f("pk_delivery_preferences")),
    )
    with op.batch_alter_table("tracking_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "window_start_at", logistics.models.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "window_end_at", logistics.models.types.UTCDateTime(timezone=True), nullable=True
            )
        )
    with op.batch_alter_table("offices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("offices", schema=None) as batch_op:
        batch_op.drop_column("phone")
    with op.batch_alter_table("tracking_events", schema=None) as batch_op:
        batch_op.drop_column("window_end_at")
        batch_op.drop_column("window_start_at")
    op.drop_table("delivery_preferences")
    op.drop_index("ix_recipient_codes_parcel", table_name="recipient_codes")
    op.drop_table("recipient_codes")
