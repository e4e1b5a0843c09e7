"""Enrolment: invitations for new people, withdraw and re-enrol with history, moves."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from lms.auth.models import Role, User
from lms.db import utcnow
from lms.enrollment.models import Enrollment, EnrollmentEvent, EnrollmentStatus, Invitation
from lms.extensions import db
from lms.mail import outbox
from tests import factories
from tests.conftest import login, post_form
from tests.enrollment.conftest import audit_actions, errors_beside, table_counts

NEW_PASSWORD = "a long new passphrase"


def invitation_link() -> str:
    (message,) = [m for m in outbox() if "/invite/" in m.body]
    match = re.search(r"http://localhost(/invite/[\w-]+)", message.body)
    assert match, message.body
    return match.group(1)


def test_a_new_person_is_invited_and_sets_a_password_once(app, client, school):
    credential, instructor = school
    cohort = factories.cohort(instructor, credential, name="CPC day class")
    login(client, instructor.email)
    response = post_form(
        client,
        f"/cohorts/{cohort.id}/enrollments",
        {"email": "New.Person@Example.org", "full_name": "New Person", "student_number": "S-77"},
        follow_redirects=True,
    )
    assert "New Person is enrolled in CPC day class." in response.get_data(as_text=True)
    person = db.session.scalar(select(User).where(User.email == "new.person@example.org"))
    assert person.role is Role.STUDENT and person.password_hash is None
    enrolment = db.session.scalar(select(Enrollment))
    assert (enrolment.student_id, enrolment.student_number) == (person.id, "S-77")
    link = invitation_link()
    token = link.rsplit("/", 1)[1]
    stored = db.session.scalar(select(Invitation))
    assert stored.token_hash != token and len(stored.token_hash) == 64  # only the hash is kept
    assert {"user.created", "invitation.created", "enrollment.added"} <= set(audit_actions())

    client.get("/logout")
    assert "Welcome, New Person" in client.get(link).get_data(as_text=True)
    response = post_form(client, link, {"password": "short", "confirm": "short"})
    assert response.status_code == 400 and "at least 12 characters" in response.get_data(
        as_text=True
    )
    response = post_form(client, link, {"password": NEW_PASSWORD, "confirm": "different one here"})
    assert response.status_code == 400 and "do not match" in response.get_data(as_text=True)
    response = post_form(client, link, {"password": " short", "confirm": "other"})
    assert response.status_code == 400
    assert errors_beside(response.get_data(as_text=True)) == {
        "password": ["Use at least 12 characters. Do not start or end the password with a space."],
        "confirm": ["The two passwords do not match."],
    }
    db.session.refresh(person)
    assert person.password_hash is None
    response = post_form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get(link).status_code == 404  # single use
    assert login(client, person.email, NEW_PASSWORD).status_code == 302
    assert "CPC day class" in client.get("/dashboard").get_data(as_text=True)


def test_an_expired_or_unknown_invitation_is_refused(app, client, school):
    credential, instructor = school
    cohort = factories.cohort(instructor, credential)
    login(client, instructor.email)
    post_form(
        client,
        f"/cohorts/{cohort.id}/enrollments",
        {"email": "late@example.org", "full_name": "Late Comer"},
    )
    link = invitation_link()
    stored = db.session.scalar(select(Invitation))
    stored.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    client.get("/logout")
    response = client.get(link)
    assert response.status_code == 404 and "expired" in response.get_data(as_text=True)
    response = post_form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 404
    assert client.get("/invite/not-a-token").status_code == 404
    assert (
        db.session.scalar(select(User.password_hash).where(User.email == "late@example.org"))
        is None
    )


def test_without_a_name_an_unknown_email_is_refused(client, school):
    credential, instructor = school
    cohort = factories.cohort(instructor, credential)
    login(client, instructor.email)
    response = post_form(client, f"/cohorts/{cohort.id}/enrollments", {"email": "who@example.org"})
    assert response.status_code == 400
    assert "Give their name to invite them" in response.get_data(as_text=True)
    assert table_counts(User, Enrollment, Invitation) == (1, 0, 0)
    assert outbox() == []


def test_withdraw_and_re_enrol_keep_the_history(client, school):
    credential, instructor = school
    student = factories.user(Role.STUDENT, name="Sam Rivera")
    cohort = factories.cohort(instructor, credential, [student], name="Day")
    login(client, instructor.email)
    url = f"/cohorts/{cohort.id}/students/{student.id}"
    assert post_form(client, f"{url}/withdraw", {"reason": "moved away"}).status_code == 302
    enrolment = db.session.scalar(select(Enrollment))
    assert enrolment.status is EnrollmentStatus.WITHDRAWN
    assert "Sam Rivera" not in client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert post_form(client, f"{url}/withdraw").status_code == 409

    # the withdrawn student's page keeps the history, and no longer their record
    page = client.get(url).get_data(as_text=True)
    assert "withdrawn — Day (moved away)" in page and "Requirements" not in page

    # Enrolled again by their instructor, they are asked first (their records were no longer
    # the cohort's), and join when they accept.
    post_form(client, f"/cohorts/{cohort.id}/enrollments", {"email": student.email})
    db.session.refresh(enrolment)
    assert enrolment.status is EnrollmentStatus.PENDING
    assert client.get(url).status_code == 404
    client.get("/logout")
    login(client, student.email)
    response = post_form(client, f"/dashboard/places/{enrolment.id}", {"answer": "accept"})
    assert response.status_code == 302
    db.session.refresh(enrolment)
    assert enrolment.status is EnrollmentStatus.ACTIVE
    kinds = db.session.scalars(select(EnrollmentEvent.kind).order_by(EnrollmentEvent.id)).all()
    assert [k.value for k in kinds] == ["enrolled", "withdrawn", "invited", "accepted"]
    client.get("/logout")
    login(client, instructor.email)
    page = client.get(url).get_data(as_text=True)
    assert "withdrawn — Day (moved away)" in page and "accepted — Day, by Sam Rivera" in page
    assert "Requirements" in page
    assert "enrollment.withdrawn" in audit_actions()


def test_a_moved_student_takes_their_completions_along(client, school):
    credential, instructor = school
    student = factories.user(Role.STUDENT, name="Sam Rivera")
    day = factories.cohort(instructor, credential, [student], name="Day")
    evening = factories.cohort(instructor, credential, name="Evening")
    elsewhere = factories.cohort(factories.user(Role.INSTRUCTOR), credential, name="Not mine")
    factories.pass_module(student, "TERM-1")
    login(client, instructor.email)
    url = f"/cohorts/{day.id}/students/{student.id}/move"
    response = post_form(client, url, {"target": elsewhere.id})
    assert response.status_code == 400  # not one of the choices
    response = post_form(client, url, {"target": day.id})
    assert response.status_code == 400
    assert table_counts(EnrollmentEvent) == (1,)

    response = post_form(client, url, {"target": evening.id})
    assert response.headers["Location"] == f"/cohorts/{evening.id}/students/{student.id}"
    statuses = dict(db.session.execute(select(Enrollment.cohort_id, Enrollment.status)).all())
    assert statuses == {day.id: EnrollmentStatus.WITHDRAWN, evening.id: EnrollmentStatus.ACTIVE}
    page = client.get(f"/cohorts/{evening.id}").get_data(as_text=True)
    row = re.search(r"Sam Rivera.*?</tr>", page, re.S).group(0)
    assert row.count("cell-done") == 1
    kinds = db.session.scalars(select(EnrollmentEvent.kind).order_by(EnrollmentEvent.id)).all()
    assert [k.value for k in kinds] == ["enrolled", "moved_in", "moved_out"]
    assert "enrollment.moved" in audit_actions()


def test_a_new_invitation_replaces_the_old_link(client, school):
    credential, instructor = school
    registered = factories.user(Role.STUDENT)
    cohort = factories.cohort(instructor, credential, [registered])
    login(client, instructor.email)
    post_form(
        client,
        f"/cohorts/{cohort.id}/enrollments",
        {"email": "slow@example.org", "full_name": "Slow Reader"},
    )
    first = invitation_link()
    person = db.session.scalar(select(User).where(User.email == "slow@example.org"))
    record = client.get(f"/cohorts/{cohort.id}/students/{person.id}").get_data(as_text=True)
    assert "has not set a password yet" in record
    response = post_form(client, f"/cohorts/{cohort.id}/students/{person.id}/invitation")
    assert response.status_code == 302
    second = outbox()[-1].body.split("http://localhost", 1)[1].split()[0]
    assert second != first
    response = post_form(client, f"/cohorts/{cohort.id}/students/{registered.id}/invitation")
    assert response.status_code == 409 and "already set a password" in response.get_data(
        as_text=True
    )
    assert table_counts(Invitation) == (2,)
    client.get("/logout")
    assert client.get(first).status_code == 404
    response = post_form(client, second, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302


def test_invitation_links_use_the_public_base_url_when_set(app, client, school):
    credential, instructor = school
    cohort = factories.cohort(instructor, credential)
    app.config["PUBLIC_BASE_URL"] = "https://lms.school.edu/"
    login(client, instructor.email)
    post_form(
        client,
        f"/cohorts/{cohort.id}/enrollments",
        {"email": "pat@example.org", "full_name": "Pat Doe"},
    )
    (message,) = outbox()
    assert "https://lms.school.edu/invite/" in message.body
    assert "localhost" not in message.body  # not the request's Host
