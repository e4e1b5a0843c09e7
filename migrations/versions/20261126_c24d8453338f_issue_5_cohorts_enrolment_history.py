"""issue 5: cohorts, enrolment history, invitations, study plans, exams

Revision ID: c24d8453338f
Revises: 1f1258f31dde
Create Date: 2026-11-26 01:12:30.426004

"""
from alembic import op
import sqlalchemy as sa

import lms.db


# revision identifiers, used by Alembic.
revision = 'c24d8453338f'
down_revision = '1f1258f31dde'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_invitation_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_invitation_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitation_token_hash'))
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_user_id'), ['user_id'], unique=False)

    op.create_table('planned_due_date',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('module_code', sa.String(length=30), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('moved_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('moved_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_planned_due_date_cohort_id_cohort')),
    sa.ForeignKeyConstraint(['moved_by_id'], ['user_account.id'], name=op.f('fk_planned_due_date_moved_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planned_due_date')),
    sa.UniqueConstraint('cohort_id', 'module_code', name=op.f('uq_planned_due_date_cohort_id_module_code'))
    )
    op.create_table('enrollment_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrollment_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('enrolled', 'withdrawn', 'reenrolled', 'moved_out', 'moved_in', 'self_enrolled', name='enrollment_event_kind', native_enum=False, length=40), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('occurred_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_enrollment_event_actor_id_user_account')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_enrollment_event_cohort_id_cohort')),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollment.id'], name=op.f('fk_enrollment_event_enrollment_id_enrollment')),
    sa.ForeignKeyConstraint(['student_id'], ['user_account.id'], name=op.f('fk_enrollment_event_student_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollment_event'))
    )
    with op.batch_alter_table('enrollment_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrollment_event_enrollment_id'), ['enrollment_id'], unique=False)
        batch_op.create_index('ix_enrollment_event_student', ['student_id', 'occurred_at'], unique=False)

    # Plain ALTER TABLE ADD COLUMN and CREATE INDEX: SQLite does both in place, so tables that
    # other rows reference are never rebuilt (a rebuild would trip their foreign keys).
    op.add_column('cohort', sa.Column('archived_at', lms.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('cohort', sa.Column('join_code', sa.String(length=16), nullable=True))
    op.add_column('cohort', sa.Column('join_enabled', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('cohort', sa.Column('inactivity_days', sa.Integer(), nullable=True))
    op.add_column('cohort', sa.Column('failed_attempts_limit', sa.Integer(), nullable=True))
    op.create_index('ix_cohort_join_code', 'cohort', ['join_code'], unique=True)
    op.add_column('enrollment', sa.Column('student_number', sa.String(length=40), nullable=True))
    op.add_column('enrollment', sa.Column('exam_booked_on', sa.Date(), nullable=True))
    op.add_column('enrollment', sa.Column('exam_fee_employer_paid', sa.Boolean(), nullable=False, server_default=sa.false()))

    # Existing enrolments start their history with the enrolment itself.
    op.execute(
        "INSERT INTO enrollment_event (enrollment_id, cohort_id, student_id, kind, occurred_at)"
        " SELECT id, cohort_id, student_id, 'enrolled', enrolled_at FROM enrollment"
    )



def downgrade():
    # New tables first (they reference enrollment and cohort), then the added columns with
    # ALTER TABLE DROP COLUMN (SQLite 3.35+ does it in place).
    op.drop_index('ix_enrollment_event_student', table_name='enrollment_event')
    op.drop_index('ix_enrollment_event_enrollment_id', table_name='enrollment_event')
    op.drop_table('enrollment_event')
    op.drop_table('planned_due_date')
    op.drop_index('ix_invitation_user_id', table_name='invitation')
    op.drop_table('invitation')
    for column in ('exam_fee_employer_paid', 'exam_booked_on', 'student_number'):
        op.drop_column('enrollment', column)
    op.drop_index('ix_cohort_join_code', table_name='cohort')
    for column in ('failed_attempts_limit', 'inactivity_days', 'join_enabled', 'join_code', 'archived_at'):
        op.drop_column('cohort', column)
