"""The migration that moves an override's verdict from ``ledger_entry.source`` to the typed
``ledger_entry.met`` converts the rows that exist, up and down, through the append-only
ledger's triggers, and leaves them exactly as they were: on the database the suite runs on
(SQLite, or PostgreSQL in a schema of its own)."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DatabaseError

from lms.extensions import db
from lms.ledger import service as ledger
from lms.ledger.models import LedgerEntry
from tests.conftest import database_at

REVISION = "1af0075252c2"
BEFORE = "bf96fd61b09f"

OLD_ROWS = [
    "INSERT INTO user_account (id, email, full_name, role, active, session_epoch, created_at) "
    "VALUES (1, 's@example.org', 'S', 'student', true, 0, '2026-11-02 15:30:00'), "
    "(2, 'i@example.org', 'I', 'instructor', true, 0, '2026-11-02 15:30:00')",
    "INSERT INTO ledger_entry (id, student_id, kind, source, source_ref, actor_id, recorded_at,"
    " note) VALUES "
    "(1, 1, 'evidence_submitted', 'student', NULL, 1, '2026-11-03 10:00:00', NULL), "
    "(2, 1, 'override_granted', 'override:met', 'TERM-1', 2, '2026-11-04 10:00:00', 'RPL'), "
    "(3, 1, 'override_granted', 'override:not_met', 'TERM-2', 2, '2026-11-05 10:00:00', 'Help'), "
    "(4, 1, 'override_granted', 'override:met', 'TERM-3', 2, '2026-11-06 10:00:00', 'RPL'), "
    "(5, 1, 'override_revoked', 'override', 'TERM-3', 2, '2026-11-07 10:00:00', 'Wrong one')",
]
SOURCES = ["student", "override:met", "override:not_met", "override:met", "override"]
READ = "SELECT id, source FROM ledger_entry ORDER BY id"
READ_TYPED = "SELECT id, source, met FROM ledger_entry ORDER BY id"


def triggers() -> list[tuple[str, str]]:
    """The ledger's triggers, each with its definition as the database keeps it."""
    if db.engine.dialect.name == "postgresql":
        query = (
            "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger"
            " WHERE tgrelid = 'ledger_entry'::regclass AND NOT tgisinternal ORDER BY tgname"
        )
    else:
        query = (
            "SELECT name, sql FROM sqlite_master"
            " WHERE type = 'trigger' AND tbl_name = 'ledger_entry' ORDER BY name"
        )
    return [tuple(row) for row in db.session.execute(text(query))]


def still_append_only() -> None:
    """An UPDATE and a DELETE of the ledger are refused, by the database itself."""
    for statement in (
        "UPDATE ledger_entry SET note = 'x' WHERE id = 2",
        "DELETE FROM ledger_entry",
    ):
        with pytest.raises(DatabaseError):
            db.session.execute(text(statement))
        db.session.rollback()


def test_the_verdict_moves_to_its_column_and_back(empty_database):
    with database_at(empty_database, BEFORE, OLD_ROWS):
        guards = triggers()
        expected = (
            ["ledger_entry_append_only", "ledger_entry_no_truncate"]
            if db.engine.dialect.name == "postgresql"
            else ["ledger_entry_no_delete", "ledger_entry_no_update"]
        )
        assert [name for name, _ in guards] == expected
        db.session.commit()  # no read of the old schema stays open across the migration

        upgrade(revision=REVISION)
        assert [tuple(row) for row in db.session.execute(text(READ_TYPED))] == [
            (1, "student", None),
            (2, "override", True),
            (3, "override", False),
            (4, "override", True),
            (5, "override", None),
        ]
        assert triggers() == guards
        still_append_only()
        # The app (at the newest revision, where an override names its cohort) reads the
        # verdicts from the column, and exports still spell them out. These overrides name
        # no cohort and no credential: they count in every cohort, as they did.
        upgrade()
        expected = {1: {"TERM-1": True, "TERM-2": False}}
        for scope in (ledger.OverrideScope(None, None), ledger.OverrideScope(7, 3)):
            assert ledger.current_overrides([1], scope) == expected
        exported = select(ledger.exported_source()).order_by(LedgerEntry.id)
        assert db.session.scalars(exported).all() == SOURCES
        db.session.commit()

        downgrade(revision=BEFORE)
        assert [tuple(row) for row in db.session.execute(text(READ))] == list(
            enumerate(SOURCES, start=1)
        )
        assert "met" not in {c["name"] for c in inspect(db.engine).get_columns("ledger_entry")}
        assert triggers() == guards
        still_append_only()
