"""issue 9: ledger index by student, kind and module

The ledger's (student_id, kind) index becomes (student_id, kind, module_id): it serves every
query the old one did, and the ones that also name a module (one module's completions, a
completion report already seen), which SQLite without statistics sent to the module_id index
instead, reading every student's entries for that module.

Plain CREATE/DROP INDEX, no batch mode: rebuilding ledger_entry on SQLite would drop its
append-only trigger. The new index is made before the old one goes, so no query is left
without one.

Revision ID: 4f3b8a87e569
Revises: da02d3c69e35
Create Date: 2026-12-01 09:05:45.489291

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '4f3b8a87e569'
down_revision = 'da02d3c69e35'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_ledger_entry_student_kind_module',
        'ledger_entry',
        ['student_id', 'kind', 'module_id'],
        unique=False,
    )
    op.drop_index('ix_ledger_entry_student_kind', table_name='ledger_entry')


def downgrade():
    op.create_index(
        'ix_ledger_entry_student_kind', 'ledger_entry', ['student_id', 'kind'], unique=False
    )
    op.drop_index('ix_ledger_entry_student_kind_module', table_name='ledger_entry')
