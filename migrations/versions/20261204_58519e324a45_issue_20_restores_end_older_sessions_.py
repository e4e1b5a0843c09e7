"""Issue 20: restores end older sessions, the audit chain is keyed, TRUNCATE refused

- user_account.sessions_valid_after: a restore from backup ends every session that logged in
  before it (the restored epochs predate logouts made since).
- audit_event.mac: an HMAC of each event's hash under a key kept outside the database.
- PostgreSQL: TRUNCATE of the ledger or the audit log is refused, as UPDATE and DELETE are
  (row triggers do not fire on TRUNCATE; SQLite has no TRUNCATE).

Revision ID: 58519e324a45
Revises: 3d0d700d9c38
Create Date: 2026-12-04 18:38:20.828984

"""
from alembic import op
import sqlalchemy as sa

import lms.db


# revision identifiers, used by Alembic.
revision = '58519e324a45'
down_revision = '3d0d700d9c38'
branch_labels = None
depends_on = None

APPEND_ONLY_TABLES = ("ledger_entry", "audit_event")


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mac', sa.String(length=64), nullable=True))

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sessions_valid_after', lms.db.UTCDateTime(timezone=True), nullable=True))

    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change()"
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.drop_column("user_account", "sessions_valid_after")
        op.drop_column("audit_event", "mac")
    else:
        # SQLite's own DROP COLUMN (3.35+): a batch copy would have to drop user_account,
        # which other tables' foreign keys refuse, and would lose the audit log's triggers.
        op.execute("ALTER TABLE user_account DROP COLUMN sessions_valid_after")
        op.execute("ALTER TABLE audit_event DROP COLUMN mac")
