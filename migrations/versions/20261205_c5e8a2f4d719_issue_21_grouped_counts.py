"""Issue 21 item 1: the cohort page's counts grouped in index order.

The counts summed nine conditions over every row of the cohort (2.7 ms at 10,000 students
on SQLite). They are now one GROUP BY over the flags, in the order of an index that holds
them (each entry read once and compared with the one before: 0.1 ms), and two counts of
index ranges for the conditions that move with the date (past its re-judging time, an exam
booked from today on). The covering index loses the two date columns, which were read for
every row, and a (cohort_id, valid_until) index answers the first range.

The students with evidence to review are listed by name, the first 25: a partial index of
those students only, in name order, replaces (cohort_id, pending_evidence), which made the
database sort every such student of the cohort (0.85 ms at 10,000 students on SQLite).

Revision ID: c5e8a2f4d719
Revises: 9b3f5d7e1a64
Create Date: 2026-12-05 15:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'c5e8a2f4d719'
down_revision = '9b3f5d7e1a64'
branch_labels = None
depends_on = None

OLD_COLUMNS = [
    'cohort_id', 'ready', 'at_risk', 'booked_not_ready', 'valid_until', 'exam_sat',
    'exam_passed', 'exam_passed_first', 'exam_booked_on', 'pending_evidence',
]
COLUMNS = [
    'cohort_id', 'ready', 'at_risk', 'booked_not_ready', 'exam_sat', 'exam_passed',
    'exam_passed_first', 'pending_evidence',
]


def upgrade():
    op.drop_index('ix_progress_row_counts', table_name='progress_row')
    op.create_index('ix_progress_row_counts', 'progress_row', COLUMNS)
    op.create_index(
        'ix_progress_row_cohort_valid_until', 'progress_row', ['cohort_id', 'valid_until']
    )
    op.drop_index('ix_progress_row_pending', table_name='progress_row')
    op.create_index(
        'ix_progress_row_pending_names',
        'progress_row',
        ['cohort_id', 'sort_name', 'student_id'],
        sqlite_where=sa.text('pending_evidence > 0'),
        postgresql_where=sa.text('pending_evidence > 0'),
    )


def downgrade():
    op.drop_index('ix_progress_row_pending_names', table_name='progress_row')
    op.create_index('ix_progress_row_pending', 'progress_row', ['cohort_id', 'pending_evidence'])
    op.drop_index('ix_progress_row_cohort_valid_until', table_name='progress_row')
    op.drop_index('ix_progress_row_counts', table_name='progress_row')
    op.create_index('ix_progress_row_counts', 'progress_row', OLD_COLUMNS)
