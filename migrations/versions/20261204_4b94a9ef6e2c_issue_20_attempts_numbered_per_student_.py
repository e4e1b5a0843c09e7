"""Issue 20: attempts numbered per student and quiz, unique

Two starts of a quiz at the same moment both counted the attempts so far, both found room and
both made one: PostgreSQL let six graded attempts through where one was allowed. Each attempt
now has its number among the student's attempts at the quiz, and (student, quiz, number) is
unique, so the second of two racing starts is refused by the database itself. Existing
attempts are numbered in the order they were started.

Revision ID: 4b94a9ef6e2c
Revises: 1a8c1d3d9eab
Create Date: 2026-12-04 19:12:56.485625

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4b94a9ef6e2c'
down_revision = '1a8c1d3d9eab'
branch_labels = None
depends_on = None

NUMBERED = """
UPDATE attempt SET number = numbered.n
FROM (
    SELECT id, row_number() OVER (
        PARTITION BY student_id, quiz_id ORDER BY started_at, id
    ) AS n
    FROM attempt
) AS numbered
WHERE attempt.id = numbered.id
"""


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if _postgres():
        op.add_column("attempt", sa.Column("number", sa.Integer(), nullable=True))
        op.execute(NUMBERED)
        op.alter_column("attempt", "number", nullable=False)
        op.create_index(
            "uq_attempt_number", "attempt", ["student_id", "quiz_id", "number"], unique=True
        )
    else:
        # SQLite adds a NOT NULL column in place when it has a default; a batch copy of the
        # table would have to drop it, which its answers' and questions' foreign keys refuse.
        op.execute("ALTER TABLE attempt ADD COLUMN number INTEGER NOT NULL DEFAULT 0")
        op.execute(NUMBERED)
        op.execute("CREATE UNIQUE INDEX uq_attempt_number ON attempt (student_id, quiz_id, number)")


def downgrade():
    if _postgres():
        op.drop_index("uq_attempt_number", table_name="attempt")
        op.drop_column("attempt", "number")
    else:
        op.execute("DROP INDEX uq_attempt_number")
        op.execute("ALTER TABLE attempt DROP COLUMN number")
