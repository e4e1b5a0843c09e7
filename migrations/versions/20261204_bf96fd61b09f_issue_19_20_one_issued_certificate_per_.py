"""Issue 19-20: one issued certificate per version; public revocation reasons

- A revoked (or superseded) certificate no longer blocks a new one for the same student and
  requirement version: the unique constraint becomes a unique index over issued rows only.
- A revocation has a public reason from a short list (certificate_event.public_reason); the
  text the instructor typed (reason) stays as a private note. Revocations made before get
  the neutral public reason "other": their text is no longer shown to the public.

Revision ID: bf96fd61b09f
Revises: 17e0fab2e080
Create Date: 2026-12-04 19:33:27.952628

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bf96fd61b09f'
down_revision = '17e0fab2e080'
branch_labels = None
depends_on = None

ISSUED_ONLY = sa.text("status = 'issued'")


def upgrade():
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_constraint('uq_certificate_student_id_requirement_set_id', type_='unique')
        batch_op.create_index(
            'uq_certificate_one_issued',
            ['student_id', 'requirement_set_id'],
            unique=True,
            sqlite_where=ISSUED_ONLY,
            postgresql_where=ISSUED_ONLY,
        )

    with op.batch_alter_table('certificate_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_reason', sa.Enum('issued_in_error', 'requirement_not_met', 'academic_misconduct', 'student_request', 'other', name='revocation_reason', native_enum=False, length=40), nullable=True))
    op.execute("UPDATE certificate_event SET public_reason = 'other' WHERE kind = 'revoked'")


def downgrade():
    reissued = op.get_bind().execute(
        sa.text(
            "SELECT count(*) FROM (SELECT student_id, requirement_set_id FROM certificate "
            "GROUP BY student_id, requirement_set_id HAVING count(*) > 1) AS twice"
        )
    ).scalar()
    if reissued:
        raise RuntimeError(
            f"{reissued} students hold a certificate issued again after a revocation; the "
            "older schema allows one per requirement version, so it cannot hold them."
        )
    with op.batch_alter_table('certificate_event', schema=None) as batch_op:
        batch_op.drop_column('public_reason')

    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index('uq_certificate_one_issued')
        batch_op.create_unique_constraint(
            'uq_certificate_student_id_requirement_set_id', ['student_id', 'requirement_set_id']
        )
