"""Issue 19: a user's time zone

- user_account.timezone: the IANA name (such as America/New_York) pages show the user's
  times in; every existing account starts on UTC, as before.

Revision ID: 7c3e9d2a41b5
Revises: 8c2f4d6a1e57
Create Date: 2026-12-04 21:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c3e9d2a41b5'
down_revision = '8c2f4d6a1e57'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('timezone', sa.String(length=64), server_default='UTC', nullable=False)
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("user_account", "timezone")
    else:
        # SQLite's own DROP COLUMN (3.35+): a batch copy would have to drop user_account,
        # which other tables' foreign keys refuse.
        op.execute("ALTER TABLE user_account DROP COLUMN timezone")
