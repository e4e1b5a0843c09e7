"""issue 10: LTI 1.3 tool: platforms, tool keys, logins, identities, courses, links, score outbox

Revision ID: cd2888909c69
Revises: 99f3feddbb97
Create Date: 2026-11-26 01:17:49.869395

"""
from alembic import op
import sqlalchemy as sa

import lms.db


# revision identifiers, used by Alembic.
revision = 'cd2888909c69'
down_revision = '99f3feddbb97'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('lti_platform',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('auth_login_url', sa.String(length=1000), nullable=False),
    sa.Column('auth_token_url', sa.String(length=1000), nullable=False),
    sa.Column('key_set_url', sa.String(length=1000), nullable=False),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_platform')),
    sa.UniqueConstraint('issuer', 'client_id', name=op.f('uq_lti_platform_issuer_client_id'))
    )
    op.create_table('lti_tool_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('private_key_pem', sa.Text(), nullable=False),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_tool_key')),
    sa.UniqueConstraint('kid', name=op.f('uq_lti_tool_key_kid'))
    )
    op.create_table('lti_deployment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platform.id'], name=op.f('fk_lti_deployment_platform_id_lti_platform')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_deployment')),
    sa.UniqueConstraint('platform_id', 'deployment_id', name=op.f('uq_lti_deployment_platform_id_deployment_id'))
    )
    op.create_table('lti_identity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platform.id'], name=op.f('fk_lti_identity_platform_id_lti_platform')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_lti_identity_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_identity')),
    sa.UniqueConstraint('platform_id', 'subject', name=op.f('uq_lti_identity_platform_id_subject'))
    )
    with op.batch_alter_table('lti_identity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_identity_user_id'), ['user_id'], unique=False)

    op.create_table('lti_login_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=64), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platform.id'], name=op.f('fk_lti_login_state_platform_id_lti_platform')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_login_state')),
    sa.UniqueConstraint('nonce', name=op.f('uq_lti_login_state_nonce')),
    sa.UniqueConstraint('state', name=op.f('uq_lti_login_state_state'))
    )
    with op.batch_alter_table('lti_login_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_login_state_platform_id'), ['platform_id'], unique=False)

    op.create_table('lti_context',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.String(length=255), nullable=False),
    sa.Column('context_id', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('memberships_url', sa.String(length=1000), nullable=True),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('last_synced_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_lti_context_cohort_id_cohort')),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platform.id'], name=op.f('fk_lti_context_platform_id_lti_platform')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_context')),
    sa.UniqueConstraint('platform_id', 'context_id', name=op.f('uq_lti_context_platform_id_context_id'))
    )
    op.create_table('lti_context_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('is_instructor', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['context_id'], ['lti_context.id'], name=op.f('fk_lti_context_member_context_id_lti_context')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_lti_context_member_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_context_member')),
    sa.UniqueConstraint('context_id', 'user_id', name=op.f('uq_lti_context_member_context_id_user_id'))
    )
    with op.batch_alter_table('lti_context_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_context_member_user_id'), ['user_id'], unique=False)

    op.create_table('lti_resource_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.Integer(), nullable=False),
    sa.Column('resource_link_id', sa.String(length=255), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=True),
    sa.Column('lineitem_url', sa.String(length=1000), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['context_id'], ['lti_context.id'], name=op.f('fk_lti_resource_link_context_id_lti_context')),
    sa.ForeignKeyConstraint(['module_id'], ['module.id'], name=op.f('fk_lti_resource_link_module_id_module')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_resource_link')),
    sa.UniqueConstraint('context_id', 'resource_link_id', name=op.f('uq_lti_resource_link_context_id_resource_link_id'))
    )
    with op.batch_alter_table('lti_resource_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_resource_link_module_id'), ['module_id'], unique=False)

    op.create_table('lti_score_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('ledger_entry_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Numeric(precision=5, scale=2, asdecimal=False), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sent', name='lti_score_status', native_enum=False, length=40), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entry.id'], name=op.f('fk_lti_score_outbox_ledger_entry_id_ledger_entry')),
    sa.ForeignKeyConstraint(['link_id'], ['lti_resource_link.id'], name=op.f('fk_lti_score_outbox_link_id_lti_resource_link')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_lti_score_outbox_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_score_outbox'))
    )
    with op.batch_alter_table('lti_score_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_score_outbox_link_id'), ['link_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_score_outbox_next_attempt_at'), ['next_attempt_at'], unique=False)



def downgrade():
    with op.batch_alter_table('lti_score_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_score_outbox_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_lti_score_outbox_link_id'))

    op.drop_table('lti_score_outbox')
    with op.batch_alter_table('lti_resource_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_resource_link_module_id'))

    op.drop_table('lti_resource_link')
    with op.batch_alter_table('lti_context_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_context_member_user_id'))

    op.drop_table('lti_context_member')
    op.drop_table('lti_context')
    with op.batch_alter_table('lti_login_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_login_state_platform_id'))

    op.drop_table('lti_login_state')
    with op.batch_alter_table('lti_identity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_identity_user_id'))

    op.drop_table('lti_identity')
    op.drop_table('lti_deployment')
    op.drop_table('lti_tool_key')
    op.drop_table('lti_platform')
