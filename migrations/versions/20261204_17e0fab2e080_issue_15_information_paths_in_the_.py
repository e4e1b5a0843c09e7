"""Issue 15: information paths in the catalogue

A credential may carry an information-only requirement tree from the catalogue (AAPC's
apprentice removal for CPC and COC), which was a Python constant keyed by code. The CPC and
COC rows of an existing database get the tree they were shown under that constant, so their
students and instructors see the same before the catalogue is synced again.

Revision ID: 17e0fab2e080
Revises: 4b94a9ef6e2c
Create Date: 2026-12-04 18:36:47.654075

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '17e0fab2e080'
down_revision = '4b94a9ef6e2c'
branch_labels = None
depends_on = None

# As the shipped catalogue has it (lms/credentials/catalog.toml), in the requirement trees'
# JSON form.
APPRENTICE_REMOVAL = {
    "type": "any_of",
    "children": [
        {"type": "experience_months", "min_months": 24},
        {
            "type": "n_of",
            "n": 2,
            "children": [
                {"type": "evidence", "kind": "prep_course_80_hours"},
                {"type": "evidence", "kind": "practicode"},
                {"type": "experience_months", "min_months": 12},
            ],
            "label": "Two of: 80 contact hours, Practicode, one year of experience",
        },
    ],
    "label": "Apprentice designation removed",
}


def upgrade():
    # ALTER TABLE in place, not a batch rebuild: SQLite would trip the foreign keys of the
    # rows that point at credentials.
    op.add_column('credential', sa.Column('information_path', sa.JSON(), nullable=True))
    credential = sa.table(
        'credential', sa.column('code', sa.String), sa.column('information_path', sa.JSON)
    )
    op.execute(
        credential.update()
        .where(credential.c.code.in_(["CPC", "COC"]))
        .values(information_path=APPRENTICE_REMOVAL)
    )


def downgrade():
    op.drop_column('credential', 'information_path')  # in place (SQLite 3.35+)
