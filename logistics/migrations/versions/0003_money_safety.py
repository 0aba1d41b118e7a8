"""Money safety: obligations (each fee and COD collected once), attempt deadlines, atomic OTP
tries, idempotent refunds, login throttling, who accepted a parcel

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

SETTLED = "('succeeded', 'partially_refunded', 'refunded')"


def upgrade() -> None:
    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempts_username_at', ['username', 'at'], unique=False)

    op.create_table('payment_obligations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parcel_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('fee', 'cod', name='payment_purpose', native_enum=False, length=24), nullable=False),
    sa.Column('amount_poisha', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('open', 'held', 'collected', 'on_account', name='obligation_status', native_enum=False, length=24), nullable=False),
    sa.Column('method', sa.String(length=24), nullable=True),
    sa.Column('attempt_id', sa.Integer(), nullable=True),
    sa.Column('collected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_poisha >= 0', name=op.f('ck_payment_obligations_amount_not_negative')),
    sa.ForeignKeyConstraint(['attempt_id'], ['charge_attempts.id'], name=op.f('fk_payment_obligations_attempt_id_charge_attempts')),
    sa.ForeignKeyConstraint(['parcel_id'], ['parcels.id'], name=op.f('fk_payment_obligations_parcel_id_parcels')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_obligations')),
    sa.UniqueConstraint('parcel_id', 'purpose', name='uq_payment_obligations_parcel_purpose')
    )
    with op.batch_alter_table('charge_attempts', schema=None) as batch_op:
        batch_op.alter_column('otp_failures', new_column_name='otp_tries', existing_type=sa.Integer(), existing_nullable=False)
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    # Attempts made before deadlines existed get the five minutes every new attempt gets.
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, created_at FROM charge_attempts")).fetchall()
    for attempt_id, created in rows:
        if isinstance(created, str):  # SQLite hands back text
            created = datetime.fromisoformat(created)
        bind.execute(
            sa.text("UPDATE charge_attempts SET expires_at = :e WHERE id = :i"),
            {"e": created + timedelta(minutes=5), "i": attempt_id},
        )
    with op.batch_alter_table('charge_attempts', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=sa.DateTime(timezone=True), nullable=False)

    with op.batch_alter_table('parcels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accepted_by_user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_parcels_accepted_by_user_id_users'), 'users', ['accepted_by_user_id'], ['id'])

    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('requested_by_user_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint('uq_refunds_attempt_request_key', ['attempt_id', 'request_key'])
        batch_op.create_foreign_key(batch_op.f('fk_refunds_requested_by_user_id_users'), 'users', ['requested_by_user_id'], ['id'])

    # What every existing parcel owes: its fee (paid, on the merchant's account, or open) and,
    # with cash on delivery, its COD (collected if an airtime charge for it succeeded).
    bind.execute(sa.text(
        "INSERT INTO payment_obligations (parcel_id, purpose, amount_poisha, status, method, collected_at, updated_at) "
        "SELECT id, 'fee', fee_poisha, "
        "CASE payment_status WHEN 'paid' THEN 'collected' WHEN 'invoiced' THEN 'on_account' ELSE 'open' END, "
        "CASE WHEN payment_status IN ('paid', 'invoiced') THEN payment_method END, "
        "CASE WHEN payment_status = 'paid' THEN created_at END, created_at FROM parcels"
    ))
    bind.execute(sa.text(
        "INSERT INTO payment_obligations (parcel_id, purpose, amount_poisha, status, method, collected_at, updated_at) "
        "SELECT p.id, 'cod', p.cod_amount_poisha + p.cod_fee_poisha, 'open', NULL, NULL, p.created_at "
        "FROM parcels p WHERE p.cod_amount_poisha > 0"
    ))
    bind.execute(sa.text(
        "UPDATE payment_obligations SET status = 'collected', method = 'airtime', "
        "attempt_id = (SELECT MIN(a.id) FROM charge_attempts a JOIN payment_links l ON l.id = a.link_id "
        f"  WHERE l.parcel_id = payment_obligations.parcel_id AND l.purpose = 'cod' AND a.status IN {SETTLED}) "
        "WHERE purpose = 'cod' AND EXISTS (SELECT 1 FROM charge_attempts a JOIN payment_links l ON l.id = a.link_id "
        f"  WHERE l.parcel_id = payment_obligations.parcel_id AND l.purpose = 'cod' AND a.status IN {SETTLED})"
    ))


def downgrade() -> None:
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_refunds_requested_by_user_id_users'), type_='foreignkey')
        batch_op.drop_constraint('uq_refunds_attempt_request_key', type_='unique')
        batch_op.drop_column('requested_by_user_id')
        batch_op.drop_column('request_key')

    with op.batch_alter_table('parcels', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_parcels_accepted_by_user_id_users'), type_='foreignkey')
        batch_op.drop_column('accepted_at')
        batch_op.drop_column('accepted_by_user_id')

    with op.batch_alter_table('charge_attempts', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
        batch_op.alter_column('otp_tries', new_column_name='otp_failures', existing_type=sa.Integer(), existing_nullable=False)

    op.drop_table('payment_obligations')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_username_at')

    op.drop_table('login_attempts')
