"""One parcel per merchant order id (merchant_reference unique per merchant), and the API's
Idempotency-Key records.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from logistics.models.types import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Orders booked twice before this revision (a shop's retry): the later parcels keep their
    # order id with their own id after it, so the first keeps the plain one and nothing is lost.
    op.execute(
        """
        UPDATE parcels SET merchant_reference =
            substr(merchant_reference, 1, 50) || '~dup' || CAST(id AS VARCHAR(12))
        WHERE merchant_reference IS NOT NULL AND merchant_id IS NOT NULL AND EXISTS (
            SELECT 1 FROM parcels AS first
            WHERE first.merchant_id = parcels.merchant_id
              AND first.merchant_reference = parcels.merchant_reference
              AND first.id < parcels.id)
        """
    )
    with op.batch_alter_table("parcels") as batch:
        batch.create_unique_constraint(
            "uq_parcels_merchant_reference", ["merchant_id", "merchant_reference"]
        )
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("response_location", sa.String(length=400), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_idempotency_keys_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("parcels") as batch:
        batch.drop_constraint("uq_parcels_merchant_reference", type_="unique")
