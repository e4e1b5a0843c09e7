"""The audit log: the hash chain is verified, a tampered row is found, admins search it."""

import json
import logging
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

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
    assert all(e.mac == audit.event_mac(audit.audit_key(), e.hash) for e in events)
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


def _rewrite_chain(key: bytes | None) -> None:
    """Rewrite every event as an intruder with the database would: change one, then recompute
    every hash after it (so the links hold) and, with ``key``, every MAC."""
    rows = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    previous = audit.GENESIS_HASH
    with guards_lifted():
        for number, event in enumerate(rows):
            details = {"email": "nobody@else.org"} if number == 1 else event.details
            fields = audit.event_body(event) | {"details": details}
            new_hash = audit.chain_hash(previous, fields)
            db.session.execute(
                text(
                    "UPDATE audit_event SET details = :d, prev_hash = :p, hash = :h, mac = :m "
                    "WHERE id = :id"
                ),
                {
                    "d": json.dumps(details),
                    "p": previous,
                    "h": new_hash,
                    "m": audit.event_mac(key, new_hash) if key else None,
                    "id": event.id,
                },
            )
            previous = new_hash
    db.session.expire_all()


def test_a_whole_chain_rewritten_without_the_key_is_found(events):
    _rewrite_chain(b"a key the intruder made up")
    result = audit.verify_chain()
    assert result.broken_id == events[0].id
    assert "MAC does not match the audit key" in result.reason


def test_a_rewritten_chain_with_its_macs_stripped_is_found_by_its_anchor(events):
    anchor = audit.chain_head()
    _rewrite_chain(None)  # no MACs at all: it looks like a chain from before the key
    assert audit.verify_chain().intact  # alone, it cannot tell...
    result = audit.verify_chain(anchor)  # ...but the anchor kept elsewhere does
    assert result.broken_id == anchor[0] and "rewritten" in result.reason


def test_events_cut_off_the_end_are_found_by_the_anchor(events, runner):
    head = audit.chain_head()
    assert head == (events[-1].id, events[-1].hash)
    with guards_lifted(), _deletes_allowed():
        db.session.execute(text("DELETE FROM audit_event WHERE id >= :id"), {"id": events[-2].id})
    assert audit.verify_chain().intact  # what is left still chains
    result = audit.verify_chain(head)
    assert result.broken_id == head[0] and "cut off its end" in result.reason
    output = runner.invoke(args=["audit", "verify", "--anchor", f"{head[0]}:{head[1]}"])
    assert output.exit_code == 1 and "cut off" in output.output
    assert runner.invoke(args=["audit", "verify", "--anchor", "nonsense"]).exit_code == 2


def test_the_head_goes_to_the_log_once_committed(app, caplog, runner):
    with caplog.at_level(logging.INFO, logger="lms.audit"):
        event = audit.record_event("test.kept", actor=None, now=factories.NOW)
        db.session.commit()
        kept = (event.id, event.hash)
        audit.record_event("test.dropped", actor=None, now=factories.NOW)
        db.session.rollback()
    heads = [(r.id, r.hash) for r in caplog.records if getattr(r, "event", None) == "audit_head"]
    assert heads == [kept]  # a rolled-back event never reaches the log
    assert runner.invoke(args=["audit", "head"]).output.strip() == f"{kept[0]}:{kept[1]}"


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite has no TRUNCATE")
def test_truncate_is_refused(events):
    for table in ("audit_event", "ledger_entry"):
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text(f"TRUNCATE {table} CASCADE"))
        db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == len(events)


@contextmanager
def _deletes_allowed():
    if ON_POSTGRES:
        yield  # guards_lifted already disabled the row trigger for UPDATE and DELETE
    else:
        db.session.execute(text("DROP TRIGGER audit_event_no_delete"))
        yield
