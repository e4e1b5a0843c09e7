"""Issue 21 item 1: a covering index for the cohort page's counts.

The page counts the whole cohort's ready, at-risk, booked-not-ready, stale, exam and
evidence rows in one aggregate; with every column it reads in one index, SQLite answers it
from the index alone (10.5 ms against 3.1 ms for 10,000 students).

Revision ID: 4e6a1c9d2b57
Revises: 8d1c3b7a9e20
Create Date: 2026-12-05 12:40:00
"""

from alembic import op

revision = '4e6a1c9d2b57'
down_revision = '8d1c3b7a9e20'
branch_labels = None
depends_on = None

COLUMNS = [
    'cohort_id', 'ready', 'at_risk', 'booked_not_ready', 'valid_until', 'exam_sat',
    'exam_passed', 'exam_passed_first', 'exam_booked_on', 'pending_evidence',
]


def upgrade():
    op.create_index('ix_progress_row_counts', 'progress_row', COLUMNS)


def downgrade():
    op.drop_index('ix_progress_row_counts', table_name='progress_row')
