"""Issue 15: typed lists for a question's tags, an attempt's choice order and the choices
picked

Three columns held comma-separated lists that the code split and joined by hand:
``question.tags`` becomes a JSON list of strings; ``attempt_question.choice_order`` and
``attempt_answer.choice_ids`` become lists of ids (``lms.db.IdList``: INTEGER[] on
PostgreSQL, JSON text on SQLite). The data is converted both ways.

SQLite: ``question`` is referenced by other tables' foreign keys, so it is not rebuilt (a
batch rebuild drops the table, which foreign keys refuse while choices point at it): its
column is added, filled, the old one dropped and the new one renamed with SQLite's own ALTER
TABLE (3.35 or later). The two attempt tables are referenced by none and are rebuilt in batch
mode for their new types and defaults.

Revision ID: 1a8c1d3d9eab
Revises: 62c4e512af97
Create Date: 2026-12-04 18:35:27.720704

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '1a8c1d3d9eab'
down_revision = '62c4e512af97'
branch_labels = None
depends_on = None

ID_LISTS = (("attempt_question", "choice_order"), ("attempt_answer", "choice_ids"))


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _replace_tags(old_type, new_type, convert, server_default: str) -> None:
    """Give ``question.tags`` a new type: a new column filled by ``convert(old value)``
    replaces it."""
    op.add_column(
        "question",
        sa.Column("tags_new", new_type, nullable=False, server_default=server_default),
    )
    question = sa.table(
        "question",
        sa.column("id", sa.Integer),
        sa.column("tags", old_type),
        sa.column("tags_new", new_type),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(question.c.id, question.c.tags)).all()
    changed = [{"qid": qid, "value": convert(tags)} for qid, tags in rows]
    if changed:
        bind.execute(
            question.update()
            .where(question.c.id == sa.bindparam("qid"))
            .values(tags_new=sa.bindparam("value")),
            changed,
        )
    if _postgres():
        op.drop_column("question", "tags")
        op.alter_column("question", "tags_new", new_column_name="tags")
    else:
        op.execute("ALTER TABLE question DROP COLUMN tags")
        op.execute("ALTER TABLE question RENAME COLUMN tags_new TO tags")


def upgrade():
    # "ICD-10-CM, hard" -> ["ICD-10-CM", "hard"]
    _replace_tags(
        sa.String(400),
        sa.JSON(),
        lambda text: [tag.strip() for tag in (text or "").split(",") if tag.strip()],
        server_default="[]",
    )
    # "31,29,30" -> [31, 29, 30]; "" -> []
    for table, column in ID_LISTS:
        if _postgres():
            op.alter_column(table, column, server_default=None)
            op.alter_column(
                table,
                column,
                type_=postgresql.ARRAY(sa.Integer()),
                existing_type=sa.String(200),
                existing_nullable=False,
                postgresql_using=f"('{{' || {column} || '}}')::integer[]",
            )
        else:
            op.execute(f"UPDATE {table} SET {column} = '[' || {column} || ']'")
            with op.batch_alter_table(table) as batch_op:
                batch_op.alter_column(
                    column,
                    type_=sa.String(),
                    existing_type=sa.String(200),
                    existing_nullable=False,
                    server_default=None,
                )


def downgrade():
    # [31, 29, 30] -> "31,29,30"; [] -> ""
    for table, column in ID_LISTS:
        default = "" if column == "choice_ids" else None
        if _postgres():
            op.alter_column(
                table,
                column,
                type_=sa.String(200),
                existing_type=postgresql.ARRAY(sa.Integer()),
                existing_nullable=False,
                postgresql_using=f"array_to_string({column}, ',')",
            )
            if default is not None:
                op.alter_column(table, column, server_default=default)
        else:
            # IdList writes JSON as "[31, 29, 30]"
            op.execute(
                f"UPDATE {table} SET {column} = "
                f"replace(replace(replace({column}, '[', ''), ']', ''), ' ', '')"
            )
            with op.batch_alter_table(table) as batch_op:
                batch_op.alter_column(
                    column,
                    type_=sa.String(200),
                    existing_type=sa.String(),
                    existing_nullable=False,
                    server_default=default,
                )
    # ["ICD-10-CM", "hard"] -> "ICD-10-CM, hard" (cut to the old column's 400 characters)
    _replace_tags(
        sa.JSON(), sa.String(400), lambda tags: ", ".join(tags or [])[:400], server_default=""
    )
    if _postgres():
        op.alter_column("question", "tags", server_default=None)
