"""The admin's user management: search, change a role, disable and enable; all audited."""

import pyotp
from sqlalchemy import select

from lms.auth import totp
from lms.auth.models import Role, User
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
