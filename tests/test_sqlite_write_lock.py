"""On SQLite a request that writes waits its turn for the write lock, then writes; one that
cannot get it within the busy timeout fails whole, with nothing written. Logging in holds no
lock while the password hash is checked."""

import sqlite3
import threading
import time

import pytest
from sqlalchemy import func, select

import lms
from lms.auth.models import Role
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import ON_POSTGRES, csrf_token

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's write lock")


def hold_write_lock(app, seconds: float) -> threading.Thread:
    """Another process's writer: takes the write lock now and keeps it for ``seconds``."""
    path = db.engine.url.database
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")

    def release():
        time.sleep(seconds)
        holder.execute("ROLLBACK")
        holder.close()

    thread = threading.Thread(target=release)
    thread.start()
    return thread


def audit_count(action: str) -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


def test_a_write_waits_for_the_lock_then_succeeds(app, client):
    student = factories.user(Role.STUDENT)
    token = csrf_token(client)
    db.session.commit()
    holder = hold_write_lock(app, 0.3)
    started = time.perf_counter()
    response = client.post(
        "/login", data={"email": student.email, "password": factories.PASSWORD, "csrf_token": token}
    )
    waited = time.perf_counter() - started
    holder.join()
    assert response.status_code == 302
    assert waited >= 0.3  # it did wait for the other writer
    assert audit_count("login.succeeded") == 1


def test_a_write_that_never_gets_the_lock_fails_whole(app, client, monkeypatch):
    monkeypatch.setattr(lms, "SQLITE_BUSY_TIMEOUT_MS", 200)
    student = factories.user(Role.STUDENT)
    token = csrf_token(client)
    db.session.commit()
    db.engine.dispose()  # connections made from here on wait 200 ms
    before = audit_count("login.succeeded")
    holder = hold_write_lock(app, 1.0)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.post(
        "/login", data={"email": student.email, "password": factories.PASSWORD, "csrf_token": token}
    )
    holder.join()
    assert response.status_code == 500
    assert audit_count("login.succeeded") == before  # nothing half-written
    # The connection is usable again once the lock is free.
    assert client.get("/login").status_code == 200


def test_the_password_check_holds_no_lock(app, client, monkeypatch):
    """While one log-in's hash is being checked, another request can write."""
    student = factories.user(Role.STUDENT)
    token = csrf_token(client)
    db.session.commit()
    path = db.engine.url.database
    seen = {}

    def slow_verify(stored_hash, password):
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("PRAGMA busy_timeout = 0")
            other.execute("BEGIN IMMEDIATE")  # fails at once if the login held the lock
            other.execute("ROLLBACK")
            seen["other_writer"] = "got the lock"
        except sqlite3.OperationalError as error:
            seen["other_writer"] = str(error)
        finally:
            other.close()
        return real_verify(stored_hash, password)

    from lms.auth import service

    real_verify = service.verify_password
    monkeypatch.setattr(service, "verify_password", slow_verify)
    response = client.post(
        "/login", data={"email": student.email, "password": factories.PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert seen["other_writer"] == "got the lock"
    assert audit_count("login.succeeded") == 1


def test_simultaneous_transcript_views_all_succeed(app):
    """Each view logs a disclosure (a GET that writes, marked @writes_on_get): it takes the
    write lock at BEGIN and waits its turn, where a read that then wrote failed at once with
    "database is locked" (16 parallel views: 41 of 48 failed)."""
    from tests.conftest import login

    student = factories.user(Role.STUDENT)
    clients = []
    for _ in range(16):
        client = app.test_client()
        login(client, student.email)
        clients.append(client)
    student_id = student.id
    db.session.commit()
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def view(client):
        barrier.wait(timeout=10)
        for _ in range(3):
            statuses.append(client.get(f"/transcripts/{student_id}").status_code)

    threads = [threading.Thread(target=view, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200] * 48
    from lms.reports.models import ExportRun

    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ExportRun)) == 48
