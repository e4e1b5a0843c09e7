"""The ledger and the audit log are append-only, in the ORM and in the database itself."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from lms.auth.models import Role
from lms.extensions import db
from lms.ledger import audit
from lms.ledger.models import AuditEvent, LedgerEntry
from tests import factories


@pytest.fixture
def entry(app):
    factories.course("TERM", modules=1)
    student = factories.user(Role.STUDENT)
    factories.pass_module(student, "TERM-1")
    return db.session.scalar(db.select(LedgerEntry))


def test_orm_refuses_to_change_or_delete_a_ledger_row(entry):
    entry.score = 12
    with pytest.raises(PermissionError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(entry)
    with pytest.raises(PermissionError, match="append-only"):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entry SET score = 1",
        "DELETE FROM ledger_entry",
        "UPDATE audit_event SET action = 'x'",
        "DELETE FROM audit_event",
    ],
)
def test_database_refuses_update_and_delete(entry, statement):
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert db.session.scalar(db.select(LedgerEntry.score)) == 100.0


def test_audit_events_are_chained_by_hash(entry):
    factories.user(Role.INSTRUCTOR)
    factories.user(Role.ADMIN)
    events = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert len(events) >= 3
    assert events[0].prev_hash == audit.GENESIS_HASH
    for previous, event in zip(events, events[1:], strict=False):
        assert event.prev_hash == previous.hash
        assert event.hash == audit.chain_hash(event.prev_hash, audit.event_body(event))
