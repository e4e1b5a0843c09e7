"""The optional TOTP second factor: enrolment by QR code, a code at login, used once."""

import base64
import json
import re
from datetime import timedelta

import pyotp
from sqlalchemy import select

from lms.auth import account_views, sessions, totp
from lms.auth.models import Role
from lms.auth.totp import TotpCredential
from lms.db import utcnow
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import login, post_form


def shown_secret(html: str) -> str:
    """The secret the set-up page shows for typing by hand (in groups of four)."""
    match = re.search(r'<code class="totp-secret">([A-Z2-7 ]+)</code>', html)
    assert match, "the set-up page shows no secret"
    return match.group(1).replace(" ", "")


def enrol(client) -> str:
    """Set up the second factor through the pages; the secret."""
    page = client.get("/account/totp")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in html
    secret = shown_secret(html)
    response = post_form(client, "/account/totp", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    return secret


def test_qr_code_is_an_svg_of_the_otpauth_uri(app):
    user = factories.user(Role.STUDENT)
    uri = totp.provisioning_uri(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    assert uri.startswith("otpauth://totp/") and "secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" in uri
    data = totp.qr_code_data_uri(uri)
    svg = base64.b64decode(data.removeprefix("data:image/svg+xml;base64,")).decode()
    assert svg.startswith("<svg") and "<script" not in svg and "style=" not in svg


def test_the_secret_being_set_up_never_travels_in_the_session_cookie(app, client):
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    secret = shown_secret(client.get("/account/totp").get_data(as_text=True))
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    serializer = app.session_interface.get_signing_serializer(app)
    assert secret not in json.dumps(serializer.loads(cookie))
    # The same secret on every page of the set-up, so the scanned code stays valid.
    assert shown_secret(client.get("/account/totp").get_data(as_text=True)) == secret


def test_enrolment_needs_a_right_code(client):
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    client.get("/account/totp")
    response = post_form(client, "/account/totp", {"code": "000000"})
    assert response.status_code == 400
    assert "That code is not right" in response.get_data(as_text=True)
    assert db.session.scalar(select(TotpCredential)) is None


def test_login_asks_for_the_code_after_the_password(app, client, monkeypatch):
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    secret = enrol(client)
    post_form(client, "/logout")
    # A minute later (the code used to enrol is spent):
    later = utcnow() + timedelta(seconds=60)
    monkeypatch.setattr(account_views, "utcnow", lambda: later)
    code = pyotp.TOTP(secret).at(later)

    fresh = app.test_client()
    response = login(fresh, student.email)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login/code")
    assert fresh.get("/dashboard").status_code == 302  # not logged in yet

    response = post_form(fresh, "/login/code", {"code": "123456"})
    assert response.status_code == 401
    assert "not right, or was already used" in response.get_data(as_text=True)
    assert fresh.get("/dashboard").status_code == 302

    # The code of the moment passes; the same code a second time does not (no replay),
    # nor does an older one.
    assert post_form(fresh, "/login/code", {"code": code}).status_code == 302
    assert fresh.get("/dashboard").status_code == 200
    again = app.test_client()
    login(again, student.email)
    assert post_form(again, "/login/code", {"code": code}).status_code == 401
    older = pyotp.TOTP(secret).at(later - timedelta(seconds=30))
    assert post_form(again, "/login/code", {"code": older}).status_code == 401
    assert again.get("/dashboard").status_code == 302
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"totp.enabled", "totp.failed"} <= actions


def test_code_page_without_a_password_sends_to_login(client):
    response = client.get("/login/code")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert post_form(client, "/login/code", {"code": "123456"}).status_code == 302


def test_the_code_step_expires(app, client, monkeypatch):
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    secret = enrol(client)
    post_form(client, "/logout")
    later = utcnow() + timedelta(minutes=6)
    fresh = app.test_client()
    login(fresh, student.email)
    monkeypatch.setattr(sessions, "now", lambda: later)
    response = post_form(fresh, "/login/code", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert fresh.get("/dashboard").status_code == 302


def test_admins_must_enrol_when_the_school_requires_it(app, client):
    app.config["REQUIRE_ADMIN_TOTP"] = True
    admin = factories.user(Role.ADMIN)
    login(client, admin.email)
    response = client.get("/admin/users")
    assert response.status_code == 302 and response.headers["Location"] == "/account/totp"
    enrol(client)
    assert client.get("/admin/users").status_code == 200
    # And it cannot be turned off.
    response = post_form(client, "/account/totp/disable", {"password": factories.PASSWORD})
    assert response.status_code == 409
    assert db.session.scalar(select(TotpCredential)) is not None


def test_requirement_does_not_touch_students(app, client):
    app.config["REQUIRE_ADMIN_TOTP"] = True
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    assert client.get("/dashboard").status_code == 200


def test_turning_it_off_needs_the_password(client):
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    enrol(client)
    response = post_form(client, "/account/totp/disable", {"password": "wrong password!!"})
    assert response.status_code == 400
    assert db.session.scalar(select(TotpCredential)) is not None
    response = post_form(client, "/account/totp/disable", {"password": factories.PASSWORD})
    assert response.status_code == 302
    assert db.session.scalar(select(TotpCredential)) is None


def test_code_guessing_is_rate_limited_per_account(app, client):
    app.config["LOGIN_RATE_LIMIT_ACCOUNT"] = "3 per minute"
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    secret = enrol(client)
    post_form(client, "/logout")
    statuses = []
    for n in range(4):
        guesser = app.test_client()  # a fresh session (and cookie) each time
        login(guesser, student.email)
        statuses.append(post_form(guesser, "/login/code", {"code": f"00000{n}"}).status_code)
    assert statuses == [401, 401, 401, 429]
    assert post_form(guesser, "/login/code", {"code": pyotp.TOTP(secret).now()}).status_code == 429
