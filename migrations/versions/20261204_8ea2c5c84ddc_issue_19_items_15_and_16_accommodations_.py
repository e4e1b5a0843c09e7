"""Issue 19 items 15 and 16: extra time for a student (accommodation), and flags for review

- accommodation: a student's extra time on timed quizzes (a multiplier), with its reason, who
  granted and who ended it; a change ends one row and starts another.
- attempt.time_multiplier: the extra time an attempt started with (already in deadline_at).
- attempt_question.flagged: the student's "flag for review" mark on a drawn question.

Revision ID: 8ea2c5c84ddc
Revises: c41e7d0a9b3f
Create Date: 2026-12-04 21:06:16.062995

"""
from alembic import op
import sqlalchemy as sa

import lms.db


# revision identifiers, used by Alembic.
revision = '8ea2c5c84ddc'
down_revision = 'c41e7d0a9b3f'
branch_labels = None
depends_on = None

STANDING = sa.text("ended_at IS NULL")  # one standing grant of extra time per student


def upgrade():
    op.create_table('accommodation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('multiplier', sa.Numeric(precision=3, scale=2, asdecimal=False), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=False),
    sa.Column('granted_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.Column('ended_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['ended_by_id'], ['user_account.id'], name=op.f('fk_accommodation_ended_by_id_user_account')),
    sa.ForeignKeyConstraint(['granted_by_id'], ['user_account.id'], name=op.f('fk_accommodation_granted_by_id_user_account')),
    sa.ForeignKeyConstraint(['student_id'], ['user_account.id'], name=op.f('fk_accommodation_student_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accommodation'))
    )
    with op.batch_alter_table('accommodation', schema=None) as batch_op:
        batch_op.create_index('ix_accommodation_student', ['student_id', 'ended_at'], unique=False)
        batch_op.create_index(
            'uq_accommodation_standing',
            ['student_id'],
            unique=True,
            sqlite_where=STANDING,
            postgresql_where=STANDING,
        )

    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_multiplier', sa.Numeric(precision=3, scale=2, asdecimal=False), nullable=True))

    with op.batch_alter_table('attempt_question', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flagged', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('attempt_question', schema=None) as batch_op:
        batch_op.drop_column('flagged')

    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.drop_column('time_multiplier')

    with op.batch_alter_table('accommodation', schema=None) as batch_op:
        batch_op.drop_index('uq_accommodation_standing')
        batch_op.drop_index('ix_accommodation_student')

    op.drop_table('accommodation')
