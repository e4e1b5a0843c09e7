"""Issue 18 item 3: open-book quizzes

``quiz.open_book``: the player offers the code look-up during an attempt at an open-book
quiz; every existing quiz starts closed book.

Revision ID: 9b4e1c7d2a63
Revises: 22fae1267e01
Create Date: 2026-12-04 22:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9b4e1c7d2a63'
down_revision = '22fae1267e01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quiz') as batch_op:
        batch_op.add_column(
            sa.Column('open_book', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table('quiz') as batch_op:
        batch_op.drop_column('open_book')
