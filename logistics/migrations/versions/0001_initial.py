"""Initial schema: offices, vans, users, API keys, merchants, parcels, tracking events

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('merchants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ecab_member_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=False),
    sa.Column('address', sa.String(length=400), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchants')),
    sa.UniqueConstraint('ecab_member_id', name=op.f('uq_merchants_ecab_member_id'))
    )
    op.create_table('offices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.Enum('intake', 'delivery', 'hub', name='office_kind'), nullable=False),
    sa.Column('source_id', sa.String(length=32), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('name_bn', sa.String(length=120), nullable=False),
    sa.Column('office_type', sa.String(length=16), nullable=False),
    sa.Column('post_code', sa.String(length=4), nullable=True),
    sa.Column('thana_en', sa.String(length=120), nullable=False),
    sa.Column('thana_bn', sa.String(length=120), nullable=False),
    sa.Column('district', sa.String(length=40), nullable=False),
    sa.Column('zone', sa.String(length=16), nullable=False),
    sa.Column('lat', sa.Numeric(precision=9, scale=6), nullable=False),
    sa.Column('lon', sa.Numeric(precision=9, scale=6), nullable=False),
    sa.Column('coord_source', sa.String(length=64), nullable=False),
    sa.Column('opens_at', sa.String(length=5), nullable=False),
    sa.Column('closes_at', sa.String(length=5), nullable=False),
    sa.Column('open_days', sa.String(length=32), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offices')),
    sa.UniqueConstraint('code', name=op.f('uq_offices_code')),
    sa.UniqueConstraint('source_id', name=op.f('uq_offices_source_id'))
    )
    op.create_table('s10_series',
    sa.Column('service_indicator', sa.String(length=2), nullable=False),
    sa.Column('next_serial', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('service_indicator', name=op.f('pk_s10_series'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.Enum('clerk', 'planner', 'merchant', 'admin', name='user_role'), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=True),
    sa.Column('merchant_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_users_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_users_office_id_offices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('vans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration', sa.String(length=40), nullable=False),
    sa.Column('model', sa.String(length=80), nullable=False),
    sa.Column('capacity_kg', sa.Integer(), nullable=False),
    sa.Column('capacity_parcels', sa.Integer(), nullable=False),
    sa.Column('home_office_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('capacity_kg > 0', name=op.f('ck_vans_capacity_kg_positive')),
    sa.CheckConstraint('capacity_parcels > 0', name=op.f('ck_vans_capacity_parcels_positive')),
    sa.ForeignKeyConstraint(['home_office_id'], ['offices.id'], name=op.f('fk_vans_home_office_id_offices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vans')),
    sa.UniqueConstraint('registration', name=op.f('uq_vans_registration'))
    )
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_keys_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('digest', name=op.f('uq_api_keys_digest'))
    )
    op.create_table('parcels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tracking_id', sa.String(length=13), nullable=False),
    sa.Column('service', sa.String(length=2), nullable=False),
    sa.Column('status', sa.Enum('booked', 'accepted', 'in_transit', 'at_delivery_office', 'out_for_delivery', 'delivered', 'delivery_failed', 'returned', name='parcel_status'), nullable=False),
    sa.Column('sender_name', sa.String(length=120), nullable=False),
    sa.Column('sender_phone', sa.String(length=16), nullable=False),
    sa.Column('sender_address', sa.String(length=400), nullable=False),
    sa.Column('recipient_name', sa.String(length=120), nullable=False),
    sa.Column('recipient_phone', sa.String(length=16), nullable=False),
    sa.Column('recipient_address', sa.String(length=400), nullable=False),
    sa.Column('recipient_post_code', sa.String(length=4), nullable=False),
    sa.Column('weight_g', sa.Integer(), nullable=False),
    sa.Column('length_mm', sa.Integer(), nullable=True),
    sa.Column('width_mm', sa.Integer(), nullable=True),
    sa.Column('height_mm', sa.Integer(), nullable=True),
    sa.Column('declared_value_poisha', sa.Integer(), nullable=False),
    sa.Column('cod_amount_poisha', sa.Integer(), nullable=False),
    sa.Column('cod_fee_poisha', sa.Integer(), nullable=False),
    sa.Column('fee_poisha', sa.Integer(), nullable=False),
    sa.Column('tariff_version', sa.String(length=32), nullable=False),
    sa.Column('payment_method', sa.Enum('cash', 'airtime', 'merchant_account', name='payment_method'), nullable=False),
    sa.Column('payment_status', sa.Enum('paid', 'pending', 'invoiced', name='payment_status'), nullable=False),
    sa.Column('origin_office_id', sa.Integer(), nullable=False),
    sa.Column('destination_office_id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=True),
    sa.Column('merchant_reference', sa.String(length=64), nullable=True),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('cod_amount_poisha >= 0', name=op.f('ck_parcels_cod_not_negative')),
    sa.CheckConstraint('cod_fee_poisha >= 0', name=op.f('ck_parcels_cod_fee_not_negative')),
    sa.CheckConstraint('declared_value_poisha >= 0', name=op.f('ck_parcels_declared_value_not_negative')),
    sa.CheckConstraint('fee_poisha >= 0', name=op.f('ck_parcels_fee_not_negative')),
    sa.CheckConstraint('weight_g > 0', name=op.f('ck_parcels_weight_positive')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_parcels_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['destination_office_id'], ['offices.id'], name=op.f('fk_parcels_destination_office_id_offices')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_parcels_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['origin_office_id'], ['offices.id'], name=op.f('fk_parcels_origin_office_id_offices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parcels')),
    sa.UniqueConstraint('tracking_id', name=op.f('uq_parcels_tracking_id'))
    )
    op.create_table('tracking_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parcel_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=400), nullable=False),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_tracking_events_actor_user_id_users')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_tracking_events_office_id_offices')),
    sa.ForeignKeyConstraint(['parcel_id'], ['parcels.id'], name=op.f('fk_tracking_events_parcel_id_parcels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_events'))
    )
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.create_index('ix_tracking_events_parcel_time', ['parcel_id', 'occurred_at'], unique=False)
    with op.batch_alter_table('parcels', schema=None) as batch_op:
        batch_op.create_index('ix_parcels_origin_created', ['origin_office_id', 'created_at'], unique=False)
        batch_op.create_index('ix_parcels_merchant_created', ['merchant_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('parcels', schema=None) as batch_op:
        batch_op.drop_index('ix_parcels_merchant_created')
        batch_op.drop_index('ix_parcels_origin_created')
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.drop_index('ix_tracking_events_parcel_time')

    op.drop_table('tracking_events')
    op.drop_table('parcels')
    op.drop_table('api_keys')
    op.drop_table('vans')
    op.drop_table('users')
    op.drop_table('s10_series')
    op.drop_table('offices')
    op.drop_table('merchants')
    for enum_name in ('parcel_status', 'payment_method', 'payment_status', 'user_role', 'office_kind'):
        sa.Enum(name=enum_name).drop(op.get_bind(), checkfirst=True)
