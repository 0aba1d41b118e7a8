"""Dispatch plans: versioned day plans, their routes, ordered stops, the parcels each stop loads
or drops, and the parcels left over with the solver's reason

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('day_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_date', sa.Date(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('mode', sa.Enum('van_day', 'hub_and_spoke', name='plan_mode', native_enum=False, length=24), nullable=False),
    sa.Column('status', sa.Enum('planning', 'draft', 'published', 'closed', 'failed', 'superseded', name='plan_status', native_enum=False, length=24), nullable=False),
    sa.Column('time_limit_s', sa.Float(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('progress_pct', sa.Integer(), nullable=False),
    sa.Column('best_cost', sa.BigInteger(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('parcels_waiting', sa.Integer(), nullable=False),
    sa.Column('parcels_planned', sa.Integer(), nullable=False),
    sa.Column('distance_m', sa.BigInteger(), nullable=False),
    sa.Column('duration_s', sa.BigInteger(), nullable=False),
    sa.Column('vans_used', sa.Integer(), nullable=False),
    sa.Column('solver_seconds', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_day_plans_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_day_plans')),
    sa.UniqueConstraint('service_date', 'version', name='uq_day_plan_version')
    )
    op.create_table('plan_routes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('van_id', sa.Integer(), nullable=False),
    sa.Column('driver_name', sa.String(length=120), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('distance_m', sa.BigInteger(), nullable=False),
    sa.Column('duration_s', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['day_plans.id'], name=op.f('fk_plan_routes_plan_id_day_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['van_id'], ['vans.id'], name=op.f('fk_plan_routes_van_id_vans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_routes'))
    )
    op.create_table('plan_unassigned',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('parcel_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['parcel_id'], ['parcels.id'], name=op.f('fk_plan_unassigned_parcel_id_parcels')),
    sa.ForeignKeyConstraint(['plan_id'], ['day_plans.id'], name=op.f('fk_plan_unassigned_plan_id_day_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_unassigned'))
    )
    op.create_table('plan_stops',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('route_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('arrives_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('departs_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('load_parcels', sa.Integer(), nullable=False),
    sa.Column('load_g', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_plan_stops_office_id_offices')),
    sa.ForeignKeyConstraint(['route_id'], ['plan_routes.id'], name=op.f('fk_plan_stops_route_id_plan_routes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_stops'))
    )
    op.create_table('plan_stop_parcels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stop_id', sa.Integer(), nullable=False),
    sa.Column('parcel_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('load', 'drop', name='stop_action', native_enum=False, length=24), nullable=False),
    sa.ForeignKeyConstraint(['parcel_id'], ['parcels.id'], name=op.f('fk_plan_stop_parcels_parcel_id_parcels')),
    sa.ForeignKeyConstraint(['stop_id'], ['plan_stops.id'], name=op.f('fk_plan_stop_parcels_stop_id_plan_stops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_stop_parcels')),
    sa.UniqueConstraint('stop_id', 'parcel_id', 'action', name='uq_stop_parcel_action')
    )
    with op.batch_alter_table('plan_stop_parcels', schema=None) as batch_op:
        batch_op.create_index('ix_plan_stop_parcels_parcel', ['parcel_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('plan_stop_parcels', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_stop_parcels_parcel')

    op.drop_table('plan_stop_parcels')
    op.drop_table('plan_stops')
    op.drop_table('plan_unassigned')
    op.drop_table('plan_routes')
    op.drop_table('day_plans')
