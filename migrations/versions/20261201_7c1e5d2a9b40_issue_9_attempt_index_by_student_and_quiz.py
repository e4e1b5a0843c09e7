"""issue 9: attempt index by student and quiz

The attempt table's (student_id) index becomes (student_id, quiz_id): it serves every query
the old one did, finds one student's attempts at one quiz directly (the player, the attempts of
an assessment's module) and hands a cohort's attempts over in quiz order within each student,
so they are summed per quiz without a sort (25,000 groups for a cohort of 1,000).

Revision ID: 7c1e5d2a9b40
Revises: 4f3b8a87e569
Create Date: 2026-12-01 09:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7c1e5d2a9b40'
down_revision = '4f3b8a87e569'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_attempt_student_quiz', 'attempt', ['student_id', 'quiz_id'], unique=False)
    op.drop_index('ix_attempt_student_id', table_name='attempt')


def downgrade():
    op.create_index('ix_attempt_student_id', 'attempt', ['student_id'], unique=False)
    op.drop_index('ix_attempt_student_quiz', table_name='attempt')
