"""The audit log: the hash chain is verified, a tampered row is found, admins search it."""

from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from lms.auth.models import Role
from lms.extensions import db
from lms.ledger import audit
from lms.ledger.models import AuditEvent
from lms.reports import audit_search
from tests import factories
from tests.conftest import ON_POSTGRES, login


@contextmanager
def guards_lifted():
    """Let the test change an audit row, as an intruder with database access could."""
    if ON_POSTGRES:
        db.session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
        yield
        db.session.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))
    else:
        db.session.execute(text("DROP TRIGGER audit_event_no_update"))
        yield
        db.session.execute(
            text(
                "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
                "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused'); END"
            )
        )
    db.session.commit()


@pytest.fixture
def events(app):
    for role in (Role.ADMIN, Role.INSTRUCTOR, Role.STUDENT, Role.STUDENT):
        factories.user(role)
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_an_intact_chain_verifies(events, runner):
    assert audit.verify_chain() == audit.ChainCheck(checked=len(events))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert f"intact: {len(events)} events checked" in result.output


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE audit_event SET action = 'user.deleted' WHERE id = :id",
        'UPDATE audit_event SET details = \'{"email": "someone@else.org"}\' WHERE id = :id',
        "UPDATE audit_event SET target_id = '999' WHERE id = :id",
    ],
)
def test_a_row_altered_in_the_database_is_found(events, runner, change):
    target = events[2]
    with guards_lifted():
        db.session.execute(text(change), {"id": target.id})
    db.session.expire_all()
    result = audit.verify_chain()
    assert (result.broken_id, result.checked) == (target.id, 2)
    assert result.reason == "its content does not match its hash"
    output = runner.invoke(args=["audit", "verify"])
    assert output.exit_code == 1
    assert f"broken at event {target.id}" in output.output


def test_a_rehashed_row_breaks_the_next_link(events):
    target = events[1]
    with guards_lifted():
        db.session.execute(
            text("UPDATE audit_event SET hash = :h WHERE id = :id"),
            {"h": "f" * 64, "id": target.id},
        )
    result = audit.verify_chain()
    # The row's own hash no longer matches its content; had the intruder recomputed it,
    # the next row's prev_hash would not match instead.
    assert result.broken_id == target.id


def test_a_deleted_row_breaks_the_chain(events):
    target = events[1]
    if ON_POSTGRES:
        db.session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
        db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": target.id})
        db.session.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))
    else:
        db.session.execute(text("DROP TRIGGER audit_event_no_delete"))
        db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": target.id})
    db.session.commit()
    result = audit.verify_chain()
    assert result.broken_id == events[2].id
    assert result.reason == "its prev_hash is not the previous event's hash"


def test_admin_searches_the_audit_log(client, events):
    admin_user = factories.user(Role.ADMIN, email="auditor@example.org")
    login(client, admin_user.email)
    page = client.get("/admin/audit?action=login").get_data(as_text=True)
    assert "login.succeeded" in page and "user.created" not in page
    page = client.get("/admin/audit?actor=auditor@").get_data(as_text=True)
    assert "login.succeeded" in page
    page = client.get("/admin/audit?target_type=user&target_id=1").get_data(as_text=True)
    assert page.count("<td>user.created</td>") == 1
    assert "No event matches." in client.get("/admin/audit?from=2030-01-01").get_data(as_text=True)


def test_audit_log_is_paginated(client, events, app):
    admin_user = factories.user(Role.ADMIN)
    for _ in range(3):
        audit.record_event("test.event", actor=None, now=datetime(2026, 11, 3, tzinfo=UTC))
    db.session.commit()
    login(client, admin_user.email)
    first = audit_search.search_events(audit_search.AuditSearch(action="test."), page=1, per_page=2)
    second = audit_search.search_events(
        audit_search.AuditSearch(action="test."), page=2, per_page=2
    )
    assert (len(first.events), first.has_next) == (2, True)
    assert (len(second.events), second.has_next) == (1, False)
    assert client.get("/admin/audit?page=2").status_code == 200


@pytest.mark.parametrize(
    "query", ["from=yesterday", "from=2026-12-01&to=2026-11-01", "page=0", "page=x"]
)
def test_bad_audit_searches_are_refused(client, events, query):
    admin_user = factories.user(Role.ADMIN)
    login(client, admin_user.email)
    assert client.get(f"/admin/audit?{query}").status_code == 400


def test_only_admins_read_the_audit_log(app, events):
    for role in (Role.INSTRUCTOR, Role.STUDENT):
        person = factories.user(role)
        client = app.test_client()
        login(client, person.email)
        assert client.get("/admin/audit").status_code == 403
