"""Issue 16 item 4: lesson media files of a course.

Revision ID: 2b8f6c0d4e91
Revises: 7a3d9e2b5c14
Create Date: 2026-12-05 02:10:00
"""

import sqlalchemy as sa
from alembic import op

from lms.db import UTCDateTime

revision = '2b8f6c0d4e91'
down_revision = '7a3d9e2b5c14'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'media_file',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=120), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('content_type', sa.String(length=80), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('captions_id', sa.Integer(), nullable=True),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('uploaded_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['captions_id'], ['media_file.id'], name=op.f('fk_media_file_captions_id_media_file')),
        sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_media_file_course_id_course')),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_media_file_uploaded_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_media_file')),
        sa.UniqueConstraint('course_id', 'filename', name=op.f('uq_media_file_course_id_filename')),
    )
    op.create_index(op.f('ix_media_file_course_id'), 'media_file', ['course_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_media_file_course_id'), table_name='media_file')
    op.drop_table('media_file')
