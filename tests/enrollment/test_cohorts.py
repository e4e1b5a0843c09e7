"""Cohort settings: edit, archive, co-instructors and join codes."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from lms.auth.models import Role
from lms.enrollment import cohorts
from lms.enrollment import service as enrollment
from lms.enrollment.models import Cohort, Enrollment, EnrollmentEvent, EnrollmentStatus
from lms.errors import InvalidInput
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import login, post_form
from tests.enrollment.conftest import audit_actions, errors_beside, table_counts

FORM = {
    "name": "CPC day class",
    "start_date": "2026-09-01",
    "exam_date": "2027-01-15",
    "inactivity_days": "10",
    "failed_attempts_limit": "",
}


def test_instructor_edits_a_cohort(client, school):
    credential, instructor = school
    cohort = factories.cohort(instructor, credential, name="Old name")
    login(client, instructor.email)
    page = client.get(f"/cohorts/{cohort.id}/edit").get_data(as_text=True)
    assert 'value="Old name"' in page
    response = post_form(
        client, f"/cohorts/{cohort.id}/edit", {**FORM, "credential_id": credential.id}
    )
    assert response.status_code == 302
    db.session.refresh(cohort)
    assert (cohort.name, cohort.inactivity_days, cohort.failed_attempts_limit) == (
        "CPC day class",
        10,
        None,
    )
    assert "cohort.updated" in audit_actions()


def test_bad_edits_change_nothing(client, school):
    credential, instructor = school
    factories.cohort(instructor, credential, name="Evening")
    cohort = factories.cohort(instructor, credential, name="Day")
    login(client, instructor.email)
    cases = [
        ({"name": "EVENING "}, 400, "You already teach a cohort named"),
        ({"exam_date": "2026-08-01"}, 400, "cannot be before the start date"),
        ({"inactivity_days": "0"}, 400, "Number must be between 1 and 365"),
        ({"name": ""}, 400, "This field is required"),
    ]
    for change, status, message in cases:
        data = {**FORM, "credential_id": credential.id, **change}
        response = post_form(client, f"/cohorts/{cohort.id}/edit", data)
        assert response.status_code == status, change
        assert message in response.get_data(as_text=True), change
    db.session.refresh(cohort)
    assert (cohort.name, cohort.exam_date.isoformat()) == ("Day", "2027-01-15")
    assert "cohort.updated" not in audit_actions()


def test_archiving_stops_enrolment_and_the_join_code(client, school):
    credential, instructor = school
    cohort = factories.cohort(instructor, credential)
    student = factories.user(Role.STUDENT)
    login(client, instructor.email)
    post_form(client, f"/cohorts/{cohort.id}/join", {"action": "on"})
    db.session.refresh(cohort)
    code = cohort.join_code
    assert re.fullmatch(r"[A-Z2-9]{8}", code) and cohort.join_enabled

    assert (
        post_form(client, f"/cohorts/{cohort.id}/archive", {"action": "archive"}).status_code == 302
    )
    db.session.refresh(cohort)
    assert cohort.is_archived and not cohort.join_enabled
    listing = client.get("/cohorts").get_data(as_text=True)
    assert "Archived" in listing and cohort.name in listing

    # Turning joining back on, or enrolling, is refused while archived.
    response = post_form(client, f"/cohorts/{cohort.id}/join", {"action": "on"})
    assert (
        response.status_code == 409
        and "archived cohort cannot take new students" in response.get_data(as_text=True)
    )
    response = post_form(client, f"/cohorts/{cohort.id}/enrollments", {"email": student.email})
    assert response.status_code == 409 and "is archived" in response.get_data(as_text=True)
    assert table_counts(Enrollment) == (0,)

    # The old join code names the archived cohort clearly.
    client.get("/logout")
    login(client, student.email)
    response = client.get(f"/join/{code}")
    assert response.status_code == 409
    assert "is archived, so its join code no longer works" in response.get_data(as_text=True)
    assert post_form(client, f"/join/{code}").status_code == 409
    assert table_counts(Enrollment) == (0,)

    client.get("/logout")
    login(client, instructor.email)
    post_form(client, f"/cohorts/{cohort.id}/archive", {"action": "restore"})
    db.session.refresh(cohort)
    assert not cohort.is_archived
    assert audit_actions()[-1] == "cohort.restored"


def test_a_student_joins_by_link_or_typed_code_and_the_instructor_can_turn_it_off(client, school):
    credential, instructor = school
    cohort = factories.cohort(instructor, credential, name="CPC evenings")
    student = factories.user(Role.STUDENT, name="Sam Rivera")
    other = factories.user(Role.STUDENT)
    login(client, instructor.email)
    post_form(client, f"/cohorts/{cohort.id}/join", {"action": "on"})
    db.session.refresh(cohort)
    code = cohort.join_code
    assert f"/join/{code}" in client.get(f"/cohorts/{cohort.id}/edit").get_data(as_text=True)

    client.get("/logout")
    login(client, student.email)
    typed = f"{code[:4].lower()}-{code[4:].lower()}"
    response = post_form(client, "/join", {"code": typed})
    assert response.headers["Location"] == f"/join/{code}"
    assert "Join CPC evenings" in client.get(f"/join/{code}").get_data(as_text=True)
    response = post_form(client, f"/join/{code}", follow_redirects=True)
    assert "You joined CPC evenings." in response.get_data(as_text=True)
    enrolment = db.session.scalar(select(Enrollment).where(Enrollment.student_id == student.id))
    assert enrolment.status is EnrollmentStatus.ACTIVE
    event = db.session.scalar(select(EnrollmentEvent))
    assert (event.kind.value, event.actor_id) == ("self_enrolled", student.id)
    assert post_form(client, f"/join/{code}").status_code == 409  # already enrolled

    client.get("/logout")
    login(client, instructor.email)
    post_form(client, f"/cohorts/{cohort.id}/join", {"action": "off"})
    client.get("/logout")
    login(client, other.email)
    response = post_form(client, f"/join/{code}")
    assert response.status_code == 409 and "turned off" in response.get_data(as_text=True)
    assert client.get("/join/ZZZZZZZZ").status_code == 404
    assert table_counts(Enrollment) == (1,)


def test_co_instructors_are_added_and_removed_by_email(client, school):
    credential, instructor = school
    cohort = factories.cohort(instructor, credential)
    colleague = factories.user(Role.INSTRUCTOR, name="Lee Colleague")
    student = factories.user(Role.STUDENT)
    login(client, instructor.email)
    for email, status, message in [
        (student.email, 400, "There is no instructor account"),
        ("nobody@example.org", 400, "There is no instructor account"),
        (instructor.email, 409, "already teaches"),
    ]:
        response = post_form(client, f"/cohorts/{cohort.id}/instructors", {"email": email})
        assert response.status_code == status and message in response.get_data(as_text=True)
    response = post_form(client, f"/cohorts/{cohort.id}/instructors", {"email": colleague.email})
    assert response.status_code == 302

    client.get("/logout")
    login(client, colleague.email)
    assert client.get(f"/cohorts/{cohort.id}").status_code == 200
    response = post_form(client, f"/cohorts/{cohort.id}/instructors/{instructor.id}/remove")
    assert response.status_code == 302
    assert [u.id for u in enrollment.get_cohort_for(colleague, cohort.id).instructors] == [
        colleague.id
    ]
    # The last instructor stays.
    response = post_form(client, f"/cohorts/{cohort.id}/instructors/{colleague.id}/remove")
    assert response.status_code == 409 and "at least one instructor" in response.get_data(
        as_text=True
    )
    client.get("/logout")
    login(client, instructor.email)
    assert client.get(f"/cohorts/{cohort.id}").status_code == 404
    assert {"cohort.instructor_added", "cohort.instructor_removed"} <= set(audit_actions())


def test_two_mistakes_at_once_are_each_shown_beside_their_own_field(client, school):
    credential, instructor = school
    cohort = factories.cohort(instructor, credential, name="Day")
    factories.cohort(instructor, credential, name="Evening")
    login(client, instructor.email)
    before = table_counts(Cohort, AuditEvent)
    mistakes = {"name": "", "exam_date": "2026-08-01"}  # no name; the exam before the start
    for url in ("/cohorts/new", f"/cohorts/{cohort.id}/edit"):
        response = post_form(client, url, {**FORM, "credential_id": credential.id, **mistakes})
        assert response.status_code == 400, url
        assert errors_beside(response.get_data(as_text=True)) == {
            "name": ["This field is required."],
            "exam_date": ["The exam date cannot be before the start date."],
        }, url
    # A name another cohort of the instructor has is found by the service, and shown beside
    # the name too.
    response = post_form(
        client,
        f"/cohorts/{cohort.id}/edit",
        {**FORM, "credential_id": credential.id, "name": "evening"},
    )
    assert response.status_code == 400
    assert errors_beside(response.get_data(as_text=True)) == {
        "name": ["You already teach a cohort named “evening”."]
    }
    assert table_counts(Cohort, AuditEvent) == before
    db.session.refresh(cohort)
    assert (cohort.name, cohort.exam_date.isoformat()) == ("Day", "2027-01-15")


def test_the_service_returns_every_problem_with_its_field(app, school):
    credential, instructor = school
    with pytest.raises(InvalidInput) as refused:
        cohorts.create_cohort(
            instructor,
            name=" ",
            credential_id=credential.id,
            start_date=date(2026, 9, 1),
            exam_date=date(2026, 8, 1),
            inactivity_days=0,
            now=factories.NOW,
        )
    assert [(p.field, p.message) for p in refused.value.problems] == [
        ("name", "Give the cohort a name."),
        ("exam_date", "The exam date cannot be before the start date."),
        ("inactivity_days", "Number must be between 1 and 365."),
    ]
    assert table_counts(Cohort) == (0,)
