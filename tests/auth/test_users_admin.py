"""The admin's user management: search, add, edit, change a role, send a password reset,
disable and enable; all audited."""

import re

import pyotp
from sqlalchemy import func, select

from lms.auth import one_time, tokens, totp
from lms.auth.models import Role, User
from lms.auth.reset import PasswordResetToken
from lms.db import utcnow
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import login, post_form


def last_event():
    return db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))


def test_admin_lists_and_searches_users(client):
    admin = factories.user(Role.ADMIN)
    factories.user(Role.STUDENT, name="Sam Rivera", email="sam@example.org")
    factories.user(Role.INSTRUCTOR, name="Dana Whitfield")
    login(client, admin.email)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Sam Rivera" in page and "Dana Whitfield" in page
    page = client.get("/admin/users?q=rIVer").get_data(as_text=True)
    assert "Sam Rivera" in page and "Dana Whitfield" not in page
    page = client.get("/admin/users?q=sam@").get_data(as_text=True)
    assert "Sam Rivera" in page
    page = client.get("/admin/users?role=instructor").get_data(as_text=True)
    assert "Dana Whitfield" in page and "Sam Rivera" not in page
    page = client.get("/admin/users?q=%25").get_data(as_text=True)  # % is literal
    assert "No account matches." in page


def test_admin_changes_a_role_and_it_is_audited(client):
    admin = factories.user(Role.ADMIN)
    person = factories.user(Role.STUDENT)
    login(client, admin.email)
    response = post_form(client, f"/admin/users/{person.id}/role", {"role": "instructor"})
    assert response.status_code == 302
    db.session.refresh(person)
    assert person.role is Role.INSTRUCTOR
    event = last_event()
    assert (event.action, event.actor_id, event.target_id) == (
        "user.role_changed",
        admin.id,
        str(person.id),
    )
    assert event.details == {"from": "student", "to": "instructor"}


def test_disable_and_enable_are_audited(client):
    admin = factories.user(Role.ADMIN)
    person = factories.user(Role.STUDENT)
    login(client, admin.email)
    post_form(client, f"/admin/users/{person.id}/active", {"active": "0"})
    db.session.refresh(person)
    assert person.active is False and last_event().action == "user.disabled"
    post_form(client, f"/admin/users/{person.id}/active", {"active": "1"})
    db.session.refresh(person)
    assert person.active is True and last_event().action == "user.enabled"


def test_bad_changes_are_refused_and_change_nothing(client):
    admin = factories.user(Role.ADMIN)
    person = factories.user(Role.STUDENT)
    login(client, admin.email)
    before = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()))
    cases = [
        (f"/admin/users/{person.id}/role", {"role": "superuser"}, 400),
        (f"/admin/users/{person.id}/active", {"active": "maybe"}, 400),
        (f"/admin/users/{admin.id}/role", {"role": "student"}, 409),
        (f"/admin/users/{admin.id}/active", {"active": "0"}, 409),
        ("/admin/users/99999/role", {"role": "admin"}, 404),
    ]
    for url, data, status in cases:
        assert post_form(client, url, data).status_code == status, url
    db.session.refresh(person)
    db.session.refresh(admin)
    assert person.role is Role.STUDENT and admin.role is Role.ADMIN and admin.active
    assert db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc())) == before


def test_only_admins_manage_users(client):
    for role in (Role.STUDENT, Role.INSTRUCTOR):
        person = factories.user(role)
        login(client, person.email)
        assert client.get("/admin/users").status_code == 403
        target = factories.user(Role.STUDENT)
        assert (
            post_form(client, f"/admin/users/{target.id}/role", {"role": "admin"}).status_code
            == 403
        )
        assert db.session.get(User, target.id).role is Role.STUDENT
        post_form(client, "/logout")


def test_admin_removes_a_lost_second_factor(app, client):
    admin = factories.user(Role.ADMIN)
    person = factories.user(Role.STUDENT)
    secret = totp.new_secret()
    totp.enrol(person, secret, pyotp.TOTP(secret).now(), utcnow())
    db.session.commit()
    login(client, admin.email)
    assert "Remove second factor" in client.get("/admin/users").get_data(as_text=True)
    response = post_form(client, f"/admin/users/{person.id}/totp/remove")
    assert response.status_code == 302
    assert totp.credential_of(person) is None
    event = last_event()
    assert (event.action, event.actor_id, event.target_id) == (
        "totp.removed_by_admin",
        admin.id,
        str(person.id),
    )
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Remove second factor" not in page


# --- add, edit, reset, disable (issue 19 item 18) -----------------------------------------

LINK = re.compile(r"https://lms\.school\.edu/password/reset/([\w-]{40,})\n")


def outbox(app):
    return app.extensions.setdefault("mail_outbox", [])


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_admin_adds_a_user_who_sets_a_password_with_the_mailed_link(app, client):
    app.config.update(PUBLIC_BASE_URL="https://lms.school.edu", TRUSTED_HOSTS=None)
    admin = factories.user(Role.ADMIN)
    login(client, admin.email)
    assert "Add a user" in client.get("/admin/users").get_data(as_text=True)
    response = post_form(
        client,
        "/admin/users/new",
        {"full_name": "  Lee Okafor ", "email": "Lee.Okafor@Example.org", "role": "instructor"},
    )
    assert response.status_code == 302
    person = db.session.scalar(select(User).where(User.email == "lee.okafor@example.org"))
    assert (person.full_name, person.role, person.password_hash) == (
        "Lee Okafor",
        Role.INSTRUCTOR,
        None,
    )
    (message,) = outbox(app)
    assert message.to == "lee.okafor@example.org" and "localhost" not in message.body
    token = LINK.search(message.body).group(1)
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.target_id == str(person.id)).order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.actor_id) for e in events] == [
        ("user.created", admin.id),
        ("password.setup_link_sent", admin.id),
    ]
    # The new person chooses a password with the link (still valid days later) and logs in.
    post_form(client, "/logout")
    fresh = app.test_client()
    response = post_form(
        fresh,
        f"/password/reset/{token}",
        {"new": "a long new password", "repeat": "a long new password"},
    )
    assert response.status_code == 302
    response = login(fresh, "lee.okafor@example.org", "a long new password")
    assert response.status_code == 302 and "/cohorts" in fresh.get("/").headers["Location"]


def test_adding_a_user_with_a_taken_email_is_refused_beside_the_field(app, client):
    admin = factories.user(Role.ADMIN)
    factories.user(Role.STUDENT, email="sam@example.org")
    login(client, admin.email)
    users, events = count(User), count(AuditEvent)
    cases = [
        ({"full_name": "Sam Two", "email": "SAM@example.org", "role": "student"}, 409, "already"),
        ({"full_name": " ", "email": "new@example.org", "role": "student"}, 400, "full name"),
        ({"full_name": "Sam Two", "email": "not an email", "role": "student"}, 400, "not a valid"),
        ({"full_name": "Sam Two", "email": "new@example.org", "role": "root"}, 400, "valid choice"),
    ]
    for data, status, message in cases:
        response = post_form(client, "/admin/users/new", data)
        page = response.get_data(as_text=True)
        assert response.status_code == status, data
        assert re.search(rf'<p class="error" id="[^"]+">[^<]*{message}', page, re.I), data
    assert (count(User), count(AuditEvent)) == (users, events)
    assert outbox(app) == []


def test_admin_edits_name_email_and_role_audited_before_and_after(client):
    admin = factories.user(Role.ADMIN)
    person = factories.user(Role.STUDENT, name="Sam Rivera", email="sam@example.org")
    login(client, admin.email)
    page = client.get(f"/admin/users/{person.id}/edit").get_data(as_text=True)
    assert 'value="Sam Rivera"' in page and 'value="sam@example.org"' in page
    response = post_form(
        client,
        f"/admin/users/{person.id}/edit",
        {"full_name": "Samantha Rivera", "email": "Samantha@Example.org", "role": "instructor"},
        follow_redirects=True,
    )
    assert "is saved" in response.get_data(as_text=True)
    db.session.refresh(person)
    assert (person.full_name, person.email, person.role) == (
        "Samantha Rivera",
        "samantha@example.org",
        Role.INSTRUCTOR,
    )
    event = last_event()
    assert (event.action, event.actor_id, event.target_id) == (
        "user.updated",
        admin.id,
        str(person.id),
    )
    assert event.details == {
        "full_name": {"from": "Sam Rivera", "to": "Samantha Rivera"},
        "email": {"from": "sam@example.org", "to": "samantha@example.org"},
        "role": {"from": "student", "to": "instructor"},
    }
    # Saving the same again changes nothing and audits nothing.
    before = count(AuditEvent)
    post_form(
        client,
        f"/admin/users/{person.id}/edit",
        {"full_name": "Samantha Rivera", "email": "samantha@example.org", "role": "instructor"},
    )
    assert count(AuditEvent) == before


def test_an_edit_that_takes_another_accounts_email_is_refused_whatever_its_case(client):
    admin = factories.user(Role.ADMIN)
    factories.user(Role.STUDENT, email="taken@example.org")
    person = factories.user(Role.STUDENT, name="Sam Rivera")
    login(client, admin.email)
    events = count(AuditEvent)
    for data, status, message in [
        ({"full_name": "Sam Rivera", "email": "TAKEN@example.org"}, 409, "already uses"),
        ({"full_name": "", "email": person.email}, 400, "full name"),
        ({"full_name": "Sam Rivera", "email": "sam@"}, 400, "not a valid email"),
    ]:
        response = post_form(client, f"/admin/users/{person.id}/edit", {**data, "role": "student"})
        assert response.status_code == status, data
        page = response.get_data(as_text=True)
        assert re.search(rf'<p class="error" id="[^"]+">[^<]*{message}', page, re.I), data
    db.session.refresh(person)
    assert person.full_name == "Sam Rivera" and person.email != "taken@example.org"
    assert count(AuditEvent) == events
    # Its own email, in another case, is no clash.
    response = post_form(
        client,
        f"/admin/users/{person.id}/edit",
        {"full_name": "Sam Rivera", "email": person.email.upper(), "role": "student"},
    )
    assert response.status_code == 302


def test_the_last_active_admin_keeps_their_role_and_their_account(client):
    admin = factories.user(Role.ADMIN, name="Only Admin")
    disabled_admin = factories.user(Role.ADMIN)
    disabled_admin.active = False
    db.session.commit()
    login(client, admin.email)
    events = count(AuditEvent)
    response = post_form(
        client,
        f"/admin/users/{admin.id}/edit",
        {"full_name": "Only Admin", "email": admin.email, "role": "instructor"},
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert re.search(r'<p class="error" id="role-error">This is the last active admin', page)
    assert post_form(client, f"/admin/users/{admin.id}/active", {"active": "0"}).status_code == 409
    db.session.refresh(admin)
    assert admin.role is Role.ADMIN and admin.active and count(AuditEvent) == events


def test_an_admin_may_step_down_when_another_admin_remains(client):
    admin = factories.user(Role.ADMIN, name="Leaving Admin")
    factories.user(Role.ADMIN)
    login(client, admin.email)
    response = post_form(
        client,
        f"/admin/users/{admin.id}/edit",
        {"full_name": "Leaving Admin", "email": admin.email, "role": "instructor"},
    )
    assert response.status_code == 302
    db.session.refresh(admin)
    assert admin.role is Role.INSTRUCTOR
    assert last_event().details == {"role": {"from": "admin", "to": "instructor"}}
    assert client.get("/admin/users").status_code == 403  # no longer an admin


def test_admin_sends_a_password_reset_built_from_the_public_base_url(app, client):
    app.config.update(PUBLIC_BASE_URL="https://lms.school.edu", TRUSTED_HOSTS=None)
    admin = factories.user(Role.ADMIN)
    person = factories.user(Role.STUDENT)
    login(client, admin.email)
    response = post_form(client, f"/admin/users/{person.id}/reset")
    assert response.status_code == 302
    (message,) = outbox(app)
    assert message.to == person.email and "localhost" not in message.body
    token = LINK.search(message.body).group(1)
    row = db.session.scalar(select(PasswordResetToken))
    assert row.user_id == person.id and row.token_hash == one_time.hash_secret(token)
    event = last_event()
    assert (event.action, event.actor_id, event.target_id) == (
        "password.reset_sent",
        admin.id,
        str(person.id),
    )


def test_no_reset_is_sent_to_a_disabled_account(app, client):
    admin = factories.user(Role.ADMIN)
    person = factories.user(Role.STUDENT)
    login(client, admin.email)
    post_form(client, f"/admin/users/{person.id}/active", {"active": "0"})
    events = count(AuditEvent)
    assert post_form(client, f"/admin/users/{person.id}/reset").status_code == 409
    assert outbox(app) == [] and count(PasswordResetToken) == 0 and count(AuditEvent) == events


def test_a_disabled_users_sessions_and_api_tokens_stop_working(app, client):
    admin = factories.user(Role.ADMIN)
    other = factories.user(Role.ADMIN)
    _, secret = tokens.create_token(
        other, name="SIS nightly", scope=tokens.TokenScope.READ, days=30, now=utcnow()
    )
    db.session.commit()
    theirs = app.test_client()
    login(theirs, other.email)
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert theirs.get("/admin/users").status_code == 200
    assert api.get("/api/v1/courses", headers=bearer).status_code == 200

    login(client, admin.email)
    assert post_form(client, f"/admin/users/{other.id}/active", {"active": "0"}).status_code == 302

    response = theirs.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert api.get("/api/v1/courses", headers=bearer).status_code == 401
    # Nor can they log in again, nor does enabling bring the old session back.
    assert login(theirs, other.email).status_code == 401
    post_form(client, f"/admin/users/{other.id}/active", {"active": "1"})
    assert theirs.get("/admin/users").status_code == 302
    assert api.get("/api/v1/courses", headers=bearer).status_code == 200  # the token is theirs
