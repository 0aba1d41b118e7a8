"""The chat channel: a channel and a payload on each outgoing message, the people who wrote to
the chat number and what they sent, registered customers and their 30-minute links.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from logistics.models.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _pin() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("lat", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("lon", sa.Numeric(precision=9, scale=6), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=8), server_default="sms", nullable=False)
        )
        batch_op.add_column(sa.Column("payload", sa.Text(), nullable=True))
    op.create_table(
        "chat_contacts",
        sa.Column("msisdn", sa.String(length=16), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("last_inbound_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("msisdn", name=op.f("pk_chat_contacts")),
    )
    op.create_table(
        "chat_inbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.String(length=128), nullable=False),
        sa.Column("msisdn", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_inbound")),
        sa.UniqueConstraint("provider_id", name=op.f("uq_chat_inbound_provider_id")),
    )
    op.create_index("ix_chat_inbound_msisdn", "chat_inbound", ["msisdn", "received_at"])
    op.create_table(
        "customers",
        sa.Column("msisdn", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("post_code", sa.String(length=4), nullable=False),
        *_pin(),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("verified_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("msisdn", name=op.f("pk_customers")),
    )
    op.create_table(
        "registration_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("msisdn", sa.String(length=16), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("address", sa.String(length=400), nullable=True),
        sa.Column("post_code", sa.String(length=4), nullable=True),
        *_pin(),
        sa.Column("code_sha256", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("code_tries", sa.Integer(), nullable=False),
        sa.Column("codes_sent", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_links")),
        sa.UniqueConstraint("token", name=op.f("uq_registration_links_token")),
    )


def downgrade() -> None:
    op.drop_table("registration_links")
    op.drop_table("customers")
    op.drop_index("ix_chat_inbound_msisdn", table_name="chat_inbound")
    op.drop_table("chat_inbound")
    op.drop_table("chat_contacts")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("payload")
        batch_op.drop_column("channel")
