"""Issue 18: code-entry questions (a case and answer boxes with keys) and the codes a student
typed, with the partial credit they earned.

Revision ID: 5c2e8a41f7d9
Revises: 9b4e1c7d2a63
Create Date: 2026-12-05 01:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '5c2e8a41f7d9'
down_revision = '9b4e1c7d2a63'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('question') as batch_op:
        batch_op.add_column(sa.Column('case_text', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('code_boxes', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('code_release', sa.String(length=40), nullable=True))
    with op.batch_alter_table('attempt_answer') as batch_op:
        batch_op.add_column(sa.Column('typed_codes', sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column('credit', sa.Numeric(precision=5, scale=4, asdecimal=False), nullable=True)
        )


def downgrade():
    with op.batch_alter_table('attempt_answer') as batch_op:
        batch_op.drop_column('credit')
        batch_op.drop_column('typed_codes')
    with op.batch_alter_table('question') as batch_op:
        batch_op.drop_column('code_release')
        batch_op.drop_column('code_boxes')
        batch_op.drop_column('case_text')
