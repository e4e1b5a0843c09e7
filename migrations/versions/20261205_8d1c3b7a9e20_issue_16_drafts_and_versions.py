"""Issue 16 item 6: module drafts and published versions, archived courses and modules, and
the module version a completion passed.

Every module in place becomes version 1, published, with its lesson as it stands.

Revision ID: 8d1c3b7a9e20
Revises: 2b8f6c0d4e91
Create Date: 2026-12-05 08:40:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from lms.db import UTCDateTime

revision = '8d1c3b7a9e20'
down_revision = '2b8f6c0d4e91'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no table rebuild: the ledger keeps its append-only triggers).
    op.add_column('course', sa.Column('archived_at', UTCDateTime(timezone=True), nullable=True))
    op.add_column('module', sa.Column('published_version', sa.Integer(), nullable=True))
    op.add_column('module', sa.Column('archived_at', UTCDateTime(timezone=True), nullable=True))
    op.add_column('ledger_entry', sa.Column('module_version', sa.Integer(), nullable=True))
    op.create_table(
        'module_draft',
        sa.Column('module_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('estimated_minutes', sa.Integer(), nullable=False),
        sa.Column('lesson_markdown', sa.Text(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['module_id'], ['module.id'], name=op.f('fk_module_draft_module_id_module')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_module_draft_updated_by_id_user_account')),
        sa.PrimaryKeyConstraint('module_id', name=op.f('pk_module_draft')),
    )
    op.create_table(
        'module_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('module_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('estimated_minutes', sa.Integer(), nullable=False),
        sa.Column('lesson_markdown', sa.Text(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('published_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('published_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['module_id'], ['module.id'], name=op.f('fk_module_version_module_id_module')),
        sa.ForeignKeyConstraint(['published_by_id'], ['user_account.id'], name=op.f('fk_module_version_published_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_module_version')),
        sa.UniqueConstraint('module_id', 'number', name=op.f('uq_module_version_module_id_number')),
    )
    op.create_index(op.f('ix_module_version_module_id'), 'module_version', ['module_id'], unique=False)

    # Every module in place is version 1, published, with its lesson as it stands.
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT module.id, module.title, module.estimated_minutes, lesson.body_markdown "
            "FROM module LEFT JOIN lesson ON lesson.module_id = module.id"
        )
    ).all()
    if rows:
        version = sa.table(
            'module_version',
            sa.column('module_id', sa.Integer()),
            sa.column('number', sa.Integer()),
            sa.column('title', sa.String()),
            sa.column('estimated_minutes', sa.Integer()),
            sa.column('lesson_markdown', sa.Text()),
            sa.column('note', sa.Text()),
            sa.column('published_at', UTCDateTime(timezone=True)),
        )
        now = datetime.now(UTC)
        op.bulk_insert(
            version,
            [
                {
                    'module_id': module_id,
                    'number': 1,
                    'title': title,
                    'estimated_minutes': minutes,
                    'lesson_markdown': body or '',
                    'note': 'The module as it stood when versions began to be kept.',
                    'published_at': now,
                }
                for module_id, title, minutes, body in rows
            ],
        )
        connection.execute(sa.text("UPDATE module SET published_version = 1"))


def downgrade():
    op.drop_index(op.f('ix_module_version_module_id'), table_name='module_version')
    op.drop_table('module_version')
    op.drop_table('module_draft')
    # Plain DROP COLUMN (SQLite 3.35 and later): no table rebuild, the triggers stay.
    op.drop_column('ledger_entry', 'module_version')
    op.drop_column('module', 'archived_at')
    op.drop_column('module', 'published_version')
    op.drop_column('course', 'archived_at')
