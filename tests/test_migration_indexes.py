"""The issue-9 migrations swap the ledger's (student, kind) index for (student, kind, module)
and the attempts' (student) for (student, quiz), on a database that holds entries, keep the
ledger's append-only trigger, and downgrade again.

On SQLite it runs on a file of its own; with ``LMS_DATABASE_URL`` on PostgreSQL, on that
database, which it leaves migrated to the newest revision as it found it."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DatabaseError

from lms.extensions import db
from tests.conftest import ON_POSTGRES, _app_for

BEFORE = "da02d3c69e35"
NEW, OLD = "ix_ledger_entry_student_kind_module", "ix_ledger_entry_student_kind"


def indexes_of(engine, table: str) -> dict[str, list[str]]:
    return {i["name"]: i["column_names"] for i in inspect(engine).get_indexes(table)}


def ledger_indexes(engine) -> dict[str, list[str]]:
    return indexes_of(engine, "ledger_entry")


def empty(engine) -> None:
    """Leave the shared PostgreSQL test database empty, as every test does (TRUNCATE, with
    the append-only triggers off for the clean-up's transaction); a SQLite file of the test's
    own is thrown away."""
    if ON_POSTGRES:
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text("TRUNCATE ledger_entry, user_account CASCADE"))


@pytest.fixture
def database_url(tmp_path: Path, database_template):
    # database_template has migrated the PostgreSQL test database to the newest revision
    if ON_POSTGRES:
        yield database_template  # this worker's database
    else:
        yield f"sqlite:///{tmp_path / 'ledger.sqlite3'}"


def test_upgrade_swaps_the_indexes_and_downgrade_restores_them(database_url):
    app = _app_for(database_url)
    engine = create_engine(database_url)
    with app.app_context():
        try:
            downgrade(revision=BEFORE) if ON_POSTGRES else upgrade(revision=BEFORE)
            empty(engine)
            with engine.begin() as connection:
                for statement in (
                    "INSERT INTO user_account (id, email, full_name, role, active,"
                    " session_epoch, created_at) VALUES"
                    " (1, 's@x.org', 'Sam', 'student', true, 0, '2026-01-01 00:00:00')",
                    "INSERT INTO ledger_entry (id, student_id, kind, source, recorded_at) VALUES"
                    " (1, 1, 'evidence_submitted', 'evidence', '2026-01-02 00:00:00'),"
                    " (2, 1, 'override_granted', 'override:met', '2026-01-03 00:00:00')",
                ):
                    connection.execute(text(statement))
            assert ledger_indexes(engine)[OLD] == ["student_id", "kind"]
            assert NEW not in ledger_indexes(engine)
            assert indexes_of(engine, "attempt") == {"ix_attempt_student_id": ["student_id"]}

            upgrade()
            indexes = ledger_indexes(engine)
            assert indexes[NEW] == ["student_id", "kind", "module_id"]
            assert OLD not in indexes
            assert indexes["ix_ledger_entry_module_id"] == ["module_id"]
            assert indexes_of(engine, "attempt") == {
                "ix_attempt_student_quiz": ["student_id", "quiz_id"],
                # issue 20: the attempt limit holds in the database
                "uq_attempt_number": ["student_id", "quiz_id", "number"],
            }
            with engine.connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM ledger_entry")).scalar() == 2
                if not ON_POSTGRES:
                    # A completion of one module is looked up by the new index, not by module.
                    plan = connection.execute(
                        text(
                            "EXPLAIN QUERY PLAN SELECT id FROM ledger_entry WHERE student_id = 1"
                            " AND kind = 'module_completed' AND module_id = 3"
                        )
                    ).all()
                    assert NEW in " ".join(str(step[-1]) for step in plan)
            with pytest.raises(DatabaseError), engine.begin() as connection:  # still append-only
                connection.execute(text("UPDATE ledger_entry SET note = 'x' WHERE id = 1"))

            downgrade(revision=BEFORE)
            indexes = ledger_indexes(engine)
            assert indexes[OLD] == ["student_id", "kind"] and NEW not in indexes
            assert indexes_of(engine, "attempt") == {"ix_attempt_student_id": ["student_id"]}
            with engine.connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM ledger_entry")).scalar() == 2
        finally:
            upgrade()
            empty(engine)
            engine.dispose()
            db.engine.dispose()
