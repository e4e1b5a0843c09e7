"""Issue 19: an override's cohort in ledger_entry.cohort_id

An override counts only in the cohort it was recorded in; the entry keeps that cohort's id.
Entries recorded before keep null there (the ledger is append-only: no old row is changed);
they count, as before, in every cohort of the credential they were recorded for.

A plain integer without a foreign key: a plain ADD COLUMN keeps the append-only triggers (a
batch copy of the table would lose them), and SQLite's own DROP COLUMN, which the downgrade
uses, refuses a column with a foreign key.

Revision ID: 5c0be1d2a7f3
Revises: 7c3e9d2a41b5
Create Date: 2026-12-04 21:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c0be1d2a7f3'
down_revision = '7c3e9d2a41b5'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('ledger_entry', sa.Column('cohort_id', sa.Integer(), nullable=True))


def downgrade():
    op.drop_column('ledger_entry', 'cohort_id')
