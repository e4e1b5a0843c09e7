"""Issue 15: an override's verdict in ledger_entry.met

An override_granted entry said met or not met in its source ("override:met",
"override:not_met"); the verdict moves to a typed column, ledger_entry.met, and those rows
keep the ordinary source "override". The downgrade moves it back.

The ledger is append-only: the triggers of the initial migration refuse UPDATE. The data
moves with the trigger that refuses UPDATE dropped, and it is created again as it was, in
the same transaction (PostgreSQL's DDL is transactional; SQLite has one writer at a time).

Revision ID: 1af0075252c2
Revises: bf96fd61b09f
Create Date: 2026-12-04 19:31:36.478726

"""
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1af0075252c2'
down_revision = 'bf96fd61b09f'
branch_labels = None
depends_on = None

#: The verdicts as the source spelled them.
VERDICTS = (("override:met", "true"), ("override:not_met", "false"))


def upgrade():
    # A plain ADD COLUMN on both databases: a batch copy of the table would lose its triggers.
    op.add_column('ledger_entry', sa.Column('met', sa.Boolean(), nullable=True))
    with updates_allowed():
        for source, met in VERDICTS:
            op.execute(
                f"UPDATE ledger_entry SET met = {met}, source = 'override' "
                f"WHERE kind = 'override_granted' AND source = '{source}'"
            )


def downgrade():
    with updates_allowed():
        for source, met in VERDICTS:
            op.execute(
                f"UPDATE ledger_entry SET source = '{source}' "
                f"WHERE kind = 'override_granted' AND met = {met}"
            )
    # SQLite's own DROP COLUMN (3.35+), which keeps the table and its triggers.
    op.drop_column('ledger_entry', 'met')


@contextmanager
def updates_allowed():
    """The ledger's guard against UPDATE dropped for the block, then created again exactly as
    the initial migration made it (``create_append_only_guards``). The guard against DELETE
    stays in place on SQLite, where it is a trigger of its own; should the block fail, the
    transaction rolls back, and the dropped trigger comes back with it."""
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP TRIGGER ledger_entry_append_only ON ledger_entry")
    else:
        op.execute("DROP TRIGGER ledger_entry_no_update")
    yield
    if postgres:
        # refuse_append_only_change() was created by the initial migration, and stays.
        op.execute(
            "CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_entry "
            "FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change()"
        )
    else:
        op.execute(
            "CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON ledger_entry "
            "BEGIN SELECT RAISE(ABORT, 'ledger_entry is append-only: UPDATE refused'); END"
        )
