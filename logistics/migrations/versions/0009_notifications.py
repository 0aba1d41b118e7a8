"""Customer messages: the SMS outbox (one row per message, unique per what it tells), the
numbers that said STOP or chose a language, and the messages people sent us.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import logistics.models.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbound_sms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('msisdn', sa.String(length=16), nullable=False),
    sa.Column('text', sa.String(length=1000), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('received_at', logistics.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_sms'))
    )
    with op.batch_alter_table('inbound_sms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_sms_msisdn'), ['msisdn'], unique=False)

    op.create_table('sms_contacts',
    sa.Column('msisdn', sa.String(length=16), nullable=False),
    sa.Column('lang', sa.String(length=2), nullable=False),
    sa.Column('opted_out_at', logistics.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', logistics.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('msisdn', name=op.f('pk_sms_contacts'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('event', sa.String(length=24), nullable=False),
    sa.Column('parcel_id', sa.Integer(), nullable=True),
    sa.Column('msisdn', sa.String(length=16), nullable=False),
    sa.Column('lang', sa.String(length=2), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('encoding', sa.String(length=4), nullable=False),
    sa.Column('segments', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'sending', 'sent', 'delivered', 'failed', 'suppressed', name='notification_status', native_enum=False, length=24), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', logistics.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('gateway', sa.String(length=24), nullable=True),
    sa.Column('gateway_reference', sa.String(length=64), nullable=True),
    sa.Column('error_code', sa.String(length=40), nullable=True),
    sa.Column('created_at', logistics.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', logistics.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', logistics.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', logistics.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['parcel_id'], ['parcels.id'], name=op.f('fk_notifications_parcel_id_parcels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('key', name=op.f('uq_notifications_key')),
    sa.UniqueConstraint('reference', name=op.f('uq_notifications_reference'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_notifications_msisdn', ['msisdn', 'created_at'], unique=False)
        batch_op.create_index('ix_notifications_parcel', ['parcel_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_parcel')
        batch_op.drop_index('ix_notifications_msisdn')
        batch_op.drop_index('ix_notifications_due')

    op.drop_table('notifications')
    op.drop_table('sms_contacts')
    with op.batch_alter_table('inbound_sms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_sms_msisdn'))

    op.drop_table('inbound_sms')
