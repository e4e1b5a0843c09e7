"""Changing a password, and resetting a forgotten one by an emailed one-time link."""

import re
from datetime import timedelta

from sqlalchemy import func, select

from lms.auth import one_time
from lms.auth.models import Role, User
from lms.auth.passwords import verify_password
from lms.auth.reset import PasswordResetToken
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import login, post_form

NEW = "a brand new passphrase"


def outbox(app):
    return app.extensions.setdefault("mail_outbox", [])


def link_in(message) -> str:
    match = re.search(r"http://localhost(/password/reset/[\w-]+)", message.body)
    assert match, message.body
    return match.group(1)


def test_change_password_checks_current_and_policy(client):
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    old_hash = student.password_hash
    cases = [
        (
            {"current": "wrong password!", "new": NEW, "repeat": NEW},
            "current password is not right",
        ),
        ({"current": factories.PASSWORD, "new": "short", "repeat": "short"}, "at least 12"),
        ({"current": factories.PASSWORD, "new": NEW, "repeat": NEW + "x"}, "differ"),
    ]
    for data, message in cases:
        response = post_form(client, "/account/password", data)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    db.session.refresh(student)
    assert student.password_hash == old_hash
    assert student.session_epoch == 0


def test_change_password_then_log_in_with_the_new_one(app, client):
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    data = {"current": factories.PASSWORD, "new": NEW, "repeat": NEW}
    assert post_form(client, "/account/password", data).status_code == 302
    db.session.refresh(student)
    assert verify_password(student.password_hash, NEW)
    assert login(app.test_client(), student.email, NEW).status_code == 302
    assert login(app.test_client(), student.email).status_code == 401


def test_reset_by_emailed_link_is_single_use(app, client):
    student = factories.user(Role.STUDENT)
    other = app.test_client()
    login(other, student.email)
    response = post_form(client, "/password/forgot", {"email": student.email.upper()})
    assert response.status_code == 302
    (message,) = outbox(app)
    assert message.to == student.email
    path = link_in(message)
    token = path.rsplit("/", 1)[1]
    # Only the hash of the secret is stored.
    stored = db.session.scalar(select(PasswordResetToken.token_hash))
    assert stored == one_time.hash_secret(token) and token not in stored

    assert client.get(path).status_code == 200
    response = post_form(client, path, {"new": NEW, "repeat": NEW})
    assert response.status_code == 302
    assert login(app.test_client(), student.email, NEW).status_code == 302
    assert other.get("/dashboard").status_code == 302  # sessions ended by the reset

    # The link works once.
    assert client.get(path).status_code == 404
    response = post_form(
        client, path, {"new": "yet another passphrase", "repeat": "yet another passphrase"}
    )
    assert response.status_code == 404
    db.session.refresh(student)
    assert verify_password(student.password_hash, NEW)
    actions = list(db.session.scalars(select(AuditEvent.action)))
    assert "password.reset_requested" in actions and "password.reset" in actions


def test_reset_link_expires(app, client):
    student = factories.user(Role.STUDENT)
    post_form(client, "/password/forgot", {"email": student.email})
    path = link_in(outbox(app)[0])
    row = db.session.scalar(select(PasswordResetToken))
    db.session.execute(
        PasswordResetToken.__table__.update().values(
            expires_at=row.created_at - timedelta(seconds=1)
        )
    )
    db.session.commit()
    assert client.get(path).status_code == 404
    assert post_form(client, path, {"new": NEW, "repeat": NEW}).status_code == 404
    db.session.refresh(student)
    assert not verify_password(student.password_hash, NEW)


def test_reset_refuses_a_short_password_and_keeps_the_link(app, client):
    student = factories.user(Role.STUDENT)
    post_form(client, "/password/forgot", {"email": student.email})
    path = link_in(outbox(app)[0])
    response = post_form(client, path, {"new": "short", "repeat": "short"})
    assert response.status_code == 400
    assert "at least 12 characters" in response.get_data(as_text=True)
    assert db.session.scalar(select(PasswordResetToken.used_at)) is None
    assert post_form(client, path, {"new": NEW, "repeat": NEW}).status_code == 302


def test_unknown_email_gets_the_same_answer_and_no_mail(app, client):
    factories.user(Role.STUDENT)
    response = post_form(client, "/password/forgot", {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert "If an account uses that email" in client.get("/login").get_data(as_text=True)
    assert outbox(app) == []
    assert db.session.scalar(select(func.count()).select_from(PasswordResetToken)) == 0


def test_made_up_token_is_refused(client):
    assert client.get("/password/reset/not-a-real-token").status_code == 404


def test_disabled_account_gets_no_link(app, client):
    student = factories.user(Role.STUDENT)
    student.active = False
    db.session.commit()
    post_form(client, "/password/forgot", {"email": student.email})
    assert outbox(app) == []
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
