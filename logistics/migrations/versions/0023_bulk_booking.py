"""Bulk booking: uploads and their rows.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from logistics.models.types import UTCDateTime

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bulk_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("origin_office", sa.String(length=12), nullable=False),
        sa.Column("sender", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=400), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("checked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("booked_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_bulk_uploads_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_bulk_uploads_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_uploads")),
    )
    op.create_index("ix_bulk_uploads_merchant", "bulk_uploads", ["merchant_id", "created_at"])
    op.create_table(
        "bulk_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("errors", sa.Text(), nullable=True),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("parcel_id", sa.Integer(), nullable=True),
        sa.Column("tracking_id", sa.String(length=13), nullable=True),
        sa.ForeignKeyConstraint(
            ["parcel_id"], ["parcels.id"], name=op.f("fk_bulk_rows_parcel_id_parcels"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["bulk_uploads.id"],
            name=op.f("fk_bulk_rows_upload_id_bulk_uploads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_rows")),
    )
    op.create_index("ix_bulk_rows_upload_status", "bulk_rows", ["upload_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_bulk_rows_upload_status", table_name="bulk_rows")
    op.drop_table("bulk_rows")
    op.drop_index("ix_bulk_uploads_merchant", table_name="bulk_uploads")
    op.drop_table("bulk_uploads")
