"""Proof of delivery: how a handover was proven and where, and the photo or signature taken
where no handover code could be had.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from logistics.models.types import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("round_parcels") as batch:
        batch.add_column(sa.Column("proof_kind", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("done_lat", sa.Numeric(9, 6), nullable=True))
        batch.add_column(sa.Column("done_lon", sa.Numeric(9, 6), nullable=True))
    op.execute("UPDATE round_parcels SET proof_kind = 'code' WHERE outcome = 'delivered'")
    op.create_table(
        "delivery_proofs",
        sa.Column("stop_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("content_type", sa.String(length=24), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["stop_id"],
            ["round_parcels.id"],
            name=op.f("fk_delivery_proofs_stop_id_round_parcels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("stop_id", name=op.f("pk_delivery_proofs")),
    )


def downgrade() -> None:
    op.drop_table("delivery_proofs")
    with op.batch_alter_table("round_parcels") as batch:
        batch.drop_column("done_lon")
        batch.drop_column("done_lat")
        batch.drop_column("proof_kind")
