"""Adjusting, publishing and scanning a day plan: the planner's moves and locked routes, a
version's parent and publisher, plan.check's findings, left-over reason codes, manifests, scan
sessions and scans

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('plan_moves',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('origin_id', sa.Integer(), nullable=False),
    sa.Column('destination_id', sa.Integer(), nullable=False),
    sa.Column('van_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['destination_id'], ['offices.id'], name=op.f('fk_plan_moves_destination_id_offices')),
    sa.ForeignKeyConstraint(['origin_id'], ['offices.id'], name=op.f('fk_plan_moves_origin_id_offices')),
    sa.ForeignKeyConstraint(['plan_id'], ['day_plans.id'], name=op.f('fk_plan_moves_plan_id_day_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['van_id'], ['vans.id'], name=op.f('fk_plan_moves_van_id_vans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_moves')),
    sa.UniqueConstraint('plan_id', 'origin_id', 'destination_id', name='uq_plan_move')
    )
    op.create_table('manifests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=True),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('route', 'dispatch', 'receipt', name='manifest_kind', native_enum=False, length=24), nullable=False),
    sa.Column('route_id', sa.Integer(), nullable=True),
    sa.Column('office_id', sa.Integer(), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_manifests_office_id_offices')),
    sa.ForeignKeyConstraint(['plan_id'], ['day_plans.id'], name=op.f('fk_manifests_plan_id_day_plans')),
    sa.ForeignKeyConstraint(['route_id'], ['plan_routes.id'], name=op.f('fk_manifests_route_id_plan_routes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manifests')),
    sa.UniqueConstraint('code', name=op.f('uq_manifests_code'))
    )
    op.create_table('scan_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manifest_id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('load', 'arrival', name='scan_kind', native_enum=False, length=24), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_scan_sessions_closed_by_id_users')),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifests.id'], name=op.f('fk_scan_sessions_manifest_id_manifests')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_scan_sessions_office_id_offices')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_scan_sessions_opened_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_sessions')),
    sa.UniqueConstraint('manifest_id', 'office_id', 'kind', name='uq_scan_session')
    )
    op.create_table('scans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('parcel_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.Enum('ok', 'duplicate', 'wrong_van', 'wrong_office', 'unknown', 'bad_id', name='scan_result', native_enum=False, length=24), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parcel_id'], ['parcels.id'], name=op.f('fk_scans_parcel_id_parcels')),
    sa.ForeignKeyConstraint(['session_id'], ['scan_sessions.id'], name=op.f('fk_scans_session_id_scan_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_scans_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scans'))
    )
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.create_index('ix_scans_parcel', ['parcel_id'], unique=False)

    with op.batch_alter_table('day_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('published_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('violations', sa.Text(), nullable=False, server_default=''))
        batch_op.create_foreign_key(batch_op.f('fk_day_plans_parent_id_day_plans'), 'day_plans', ['parent_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_day_plans_published_by_id_users'), 'users', ['published_by_id'], ['id'])

    with op.batch_alter_table('plan_routes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('plan_unassigned', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code', sa.String(length=24), nullable=False, server_default='no_room'))



def downgrade() -> None:
    with op.batch_alter_table('plan_unassigned', schema=None) as batch_op:
        batch_op.drop_column('code')

    with op.batch_alter_table('plan_routes', schema=None) as batch_op:
        batch_op.drop_column('locked')

    with op.batch_alter_table('day_plans', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_day_plans_published_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_day_plans_parent_id_day_plans'), type_='foreignkey')
        batch_op.drop_column('violations')
        batch_op.drop_column('published_by_id')
        batch_op.drop_column('parent_id')

    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.drop_index('ix_scans_parcel')

    op.drop_table('scans')
    op.drop_table('scan_sessions')
    op.drop_table('manifests')
    op.drop_table('plan_moves')
