"""Sessions end when they should: password change, account disabled, idle, too old."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms import create_app
from lms.auth import sessions
from lms.auth.models import Role
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import login, post_form


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = factories.NOW

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(sessions, "now", clock)
    return clock


def logged_in(client) -> bool:
    return client.get("/dashboard").status_code == 200


def test_session_cookie_flags(app, client):
    student = factories.user(Role.STUDENT)
    response = login(client, student.email)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie  # tests run as production would


def test_cookie_is_not_secure_in_development():
    app = create_app({"ENVIRONMENT": "development", "SECRET_KEY": "x", "TESTING": True})
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["SESSION_COOKIE_NAME"] == "session"


def test_host_prefix_on_https():
    app = create_app({"PREFERRED_URL_SCHEME": "https", "SECRET_KEY": "x", "TESTING": True})
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_PATH"] == "/"
    assert app.config["SESSION_COOKIE_DOMAIN"] is None


def test_pre_login_cookie_is_not_the_logged_in_session(app, client):
    student = factories.user(Role.STUDENT)
    client.get("/login")
    before = client.get_cookie("session").value
    login(client, student.email)
    after = client.get_cookie("session").value
    assert before != after
    assert logged_in(client)
    # Someone holding the cookie from before the login is not logged in.
    fixed = app.test_client()
    fixed.set_cookie("session", before)
    assert not logged_in(fixed)


def test_each_login_gets_a_new_session_id(app):
    student = factories.user(Role.STUDENT)
    ids = []
    for _ in range(2):
        client = app.test_client()
        login(client, student.email)
        with client.session_transaction() as session:
            ids.append(session["sid"])
    assert ids[0] != ids[1] and len(ids[0]) >= 20


def test_changing_password_ends_every_other_session(app, client):
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    other_device = app.test_client()
    login(other_device, student.email)
    copied = client.get_cookie("session").value

    response = post_form(
        client,
        "/account/password",
        {
            "current": factories.PASSWORD,
            "new": "a brand new passphrase",
            "repeat": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert logged_in(client)  # this browser starts a fresh session
    assert not logged_in(other_device)
    replay = app.test_client()
    replay.set_cookie("session", copied)
    assert not logged_in(replay)
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == (
        "password.changed"
    )


def test_admin_disabling_an_account_ends_its_sessions(app, client):
    student = factories.user(Role.STUDENT)
    admin = factories.user(Role.ADMIN)
    login(client, student.email)
    copied = client.get_cookie("session").value
    admin_client = app.test_client()
    login(admin_client, admin.email)

    response = post_form(admin_client, f"/admin/users/{student.id}/active", {"active": "0"})
    assert response.status_code == 302
    assert not logged_in(client)
    replay = app.test_client()
    replay.set_cookie("session", copied)
    assert not logged_in(replay)
    assert login(app.test_client(), student.email).status_code == 401


def test_idle_timeout_ends_the_session(app, client, clock):
    app.config["SESSION_IDLE_TIMEOUT"] = 600
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    clock.advance(seconds=590)
    assert logged_in(client)  # activity keeps it alive
    clock.advance(seconds=590)
    assert logged_in(client)
    clock.advance(seconds=601)
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert "Your session has ended" in client.get("/login").get_data(as_text=True)


def test_absolute_lifetime_ends_an_active_session(app, client, clock):
    app.config["SESSION_IDLE_TIMEOUT"] = 600
    app.config["SESSION_ABSOLUTE_LIFETIME"] = 3600
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    for _ in range(7):
        clock.advance(seconds=500)
        assert logged_in(client)
    clock.advance(seconds=200)  # seen 200 s ago, but logged in 3700 s ago
    assert not logged_in(client)


def test_session_without_times_is_refused(app, client):
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    with client.session_transaction() as session:
        del session["login_at"]
    assert not logged_in(client)
