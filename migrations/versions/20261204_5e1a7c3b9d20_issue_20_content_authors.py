"""Issue 20 item 4 (and issue 16): content authors

Only an admin, or an instructor an admin names an author, edits course content (quizzes,
questions, banks, courses). ``user_account.content_author`` says who is named; every
existing instructor starts as not named, so an admin names the school's authors once.

Revision ID: 5e1a7c3b9d20
Revises: 1af0075252c2
Create Date: 2026-12-04 21:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1a7c3b9d20'
down_revision = '1af0075252c2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.add_column(
            sa.Column('content_author', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.drop_column('content_author')
