"""Issue 19 item 12: the mail outbox and opt-outs

- outgoing_mail: every email, written in the transaction that sends it and delivered after
  the commit; a unique idempotency key, attempts with backoff, a claim lease, sent or failed.
- mail_opt_out: the kinds of notice a person turned off (security mail cannot be).

Revision ID: 22fae1267e01
Revises: 8ea2c5c84ddc
Create Date: 2026-12-04 21:08:01.238607

"""
from alembic import op
import sqlalchemy as sa

import lms.db


# revision identifiers, used by Alembic.
revision = '22fae1267e01'
down_revision = '8ea2c5c84ddc'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outgoing_mail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=False),
    sa.Column('html_body', sa.Text(), nullable=True),
    sa.Column('unsubscribe_url', sa.String(length=500), nullable=True),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failed_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_mail')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outgoing_mail_idempotency_key'))
    )
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.create_index('ix_outgoing_mail_due', ['sent_at', 'failed_at', 'next_attempt_at'], unique=False)

    op.create_table('mail_opt_out',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_mail_opt_out_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_mail_opt_out'))
    )


def downgrade():
    op.drop_table('mail_opt_out')
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.drop_index('ix_outgoing_mail_due')

    op.drop_table('outgoing_mail')
