"""``flask backup`` and ``flask restore`` give back exactly the records that were saved."""

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from lms.auth.models import Role, User
from lms.extensions import db
from lms.ledger.models import AuditEvent, LedgerEntry
from tests import factories


def snapshot():
    """Every row of every table."""
    db.session.expire_all()
    return {
        table.name: sorted(map(tuple, db.session.execute(select(table)).all()), key=repr)
        for table in db.metadata.sorted_tables
    }


def test_backup_then_restore_gives_back_the_same_records(app, runner, tmp_path):
    factories.course("TERM", modules=2)
    credential = factories.credential("CPC", modules=["TERM-1"])
    student = factories.user(Role.STUDENT, name="Sam Rivera")
    factories.cohort(factories.user(Role.INSTRUCTOR), credential, [student])
    factories.pass_module(student, "TERM-1")  # a ledger entry and a certificate
    saved = snapshot()
    assert saved["ledger_entry"] and saved["certificate"] and saved["audit_event"]
    db.session.commit()

    target = tmp_path / "lms.backup"
    result = runner.invoke(args=["backup", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert f"Backup written to {target}." in result.output
    assert target.stat().st_size > 0

    # Life goes on after the backup...
    factories.user(Role.STUDENT, name="Late Comer")
    factories.pass_module(student, "TERM-2")
    assert snapshot() != saved

    result = runner.invoke(args=["restore", "--yes", str(target)])
    assert result.exit_code == 0, result.output
    assert snapshot() == saved
    assert db.session.scalar(select(func.count()).select_from(User)) == 2
    # The restored database still refuses changes to the ledger.
    entry_count = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text("DELETE FROM ledger_entry"))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == entry_count
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == len(
        saved["audit_event"]
    )


def test_restore_asks_for_confirmation(runner, tmp_path):
    target = tmp_path / "lms.backup"
    assert runner.invoke(args=["backup", "-o", str(target)]).exit_code == 0
    factories.user(Role.STUDENT)
    result = runner.invoke(args=["restore", str(target)], input="n\n")
    assert result.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_restore_refuses_a_file_that_is_not_a_backup(runner, tmp_path):
    factories.user(Role.STUDENT)
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a backup at all")
    result = runner.invoke(args=["restore", "--yes", str(bogus)])
    assert result.exit_code != 0
    assert "Restore failed" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
