"""Issue 18 item 4: code-set releases a school loads, to review code-entry keys against.

Revision ID: 7a3d9e2b5c14
Revises: 4f1fee798243
Create Date: 2026-12-05 02:00:00
"""

import sqlalchemy as sa
from alembic import op

from lms.db import UTCDateTime

revision = '7a3d9e2b5c14'
down_revision = '4f1fee798243'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'code_set_release',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code_set', sa.String(length=20), nullable=False),
        sa.Column('label', sa.String(length=40), nullable=False),
        sa.Column('loaded_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('codes', sa.JSON(), nullable=False),
        sa.Column('code_count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_code_set_release')),
        sa.UniqueConstraint('code_set', 'label', name=op.f('uq_code_set_release_code_set_label')),
    )


def downgrade():
    op.drop_table('code_set_release')
