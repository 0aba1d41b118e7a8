"""Airtime payments: links, charge attempts, refunds, callback receipts, ported numbers, ledger

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('callback_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operator', sa.String(length=32), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_receipts')),
    sa.UniqueConstraint('operator', 'digest', name='uq_callback_receipts_operator_digest')
    )
    op.create_table('ledger_transactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('memo', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_transactions')),
    sa.UniqueConstraint('reference', name=op.f('uq_ledger_transactions_reference'))
    )
    op.create_table('msisdn_locks',
    sa.Column('msisdn', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('msisdn', name=op.f('pk_msisdn_locks'))
    )
    op.create_table('ported_numbers',
    sa.Column('msisdn', sa.String(length=16), nullable=False),
    sa.Column('operator', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('msisdn', name=op.f('pk_ported_numbers'))
    )
    op.create_table('ledger_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=80), nullable=False),
    sa.Column('amount_poisha', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_ledger_entries_transaction_id_ledger_transactions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entries_account', ['account'], unique=False)

    op.create_table('payment_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=48), nullable=False),
    sa.Column('parcel_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('fee', 'cod', name='payment_purpose', native_enum=False, length=24), nullable=False),
    sa.Column('amount_poisha', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount_poisha > 0', name=op.f('ck_payment_links_amount_positive')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_payment_links_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['parcel_id'], ['parcels.id'], name=op.f('fk_payment_links_parcel_id_parcels')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_links')),
    sa.UniqueConstraint('token', name=op.f('uq_payment_links_token'))
    )
    op.create_table('charge_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('msisdn', sa.String(length=16), nullable=False),
    sa.Column('operator', sa.String(length=32), nullable=False),
    sa.Column('amount_poisha', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('created', 'consent_sent', 'consent_verified', 'charging', 'pending', 'succeeded', 'failed', 'refunded', 'partially_refunded', name='attempt_status', native_enum=False, length=24), nullable=False),
    sa.Column('consent_id', sa.String(length=64), nullable=True),
    sa.Column('consent_method', sa.String(length=8), nullable=True),
    sa.Column('consent_page_url', sa.String(length=400), nullable=True),
    sa.Column('consent_token', sa.String(length=128), nullable=True),
    sa.Column('otp_failures', sa.Integer(), nullable=False),
    sa.Column('operator_reference', sa.String(length=64), nullable=True),
    sa.Column('error_code', sa.String(length=40), nullable=True),
    sa.Column('error_message', sa.String(length=400), nullable=True),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('refunded_poisha', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('amount_poisha > 0', name=op.f('ck_charge_attempts_amount_positive')),
    sa.ForeignKeyConstraint(['link_id'], ['payment_links.id'], name=op.f('fk_charge_attempts_link_id_payment_links')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_charge_attempts')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_charge_attempts_idempotency_key')),
    sa.UniqueConstraint('public_id', name=op.f('uq_charge_attempts_public_id'))
    )
    with op.batch_alter_table('charge_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_charge_attempts_msisdn_created', ['msisdn', 'created_at'], unique=False)
        batch_op.create_index('ix_charge_attempts_status_updated', ['status', 'updated_at'], unique=False)

    op.create_table('refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('amount_poisha', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('operator_reference', sa.String(length=64), nullable=True),
    sa.Column('error_code', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_poisha > 0', name=op.f('ck_refunds_amount_positive')),
    sa.ForeignKeyConstraint(['attempt_id'], ['charge_attempts.id'], name=op.f('fk_refunds_attempt_id_charge_attempts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_refunds_idempotency_key'))
    )


def downgrade() -> None:
    op.drop_table('refunds')
    with op.batch_alter_table('charge_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_charge_attempts_status_updated')
        batch_op.drop_index('ix_charge_attempts_msisdn_created')

    op.drop_table('charge_attempts')
    op.drop_table('payment_links')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entries_account')

    op.drop_table('ledger_entries')
    op.drop_table('ported_numbers')
    op.drop_table('msisdn_locks')
    op.drop_table('ledger_transactions')
    op.drop_table('callback_receipts')
