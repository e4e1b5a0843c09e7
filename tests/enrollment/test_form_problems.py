"""A refused form comes back with each problem beside the field it belongs to, and nothing
written: enrolling, co-instructors, overrides, moves, the study plan, exam bookings, join
codes and roster files. (The cohort form: ``test_cohorts.py``; invitations:
``test_enrolment.py``.)"""

from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import select

from lms.auth.models import Role, User
from lms.db import utcnow
from lms.enrollment.models import Cohort, Enrollment, PlannedDueDate, cohort_instructor
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import login, post_form
from tests.enrollment.conftest import errors_beside, inline_errors, ledger_count, table_counts


def test_enrolling_an_unknown_email_without_a_name(client, school):
    credential, instructor = school
    cohort = factories.cohort(instructor, credential)
    login(client, instructor.email)
    before = table_counts(User, Enrollment, AuditEvent)
    response = post_form(
        client, f"/cohorts/{cohort.id}/enrollments", {"email": "nobody@example.org"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert errors_beside(page) == {
        "email": ["There is no student account with the email nobody@example.org."],
        "full_name": ["Give their name to invite them."],
    }
    assert 'value="nobody@example.org"' in page  # what was typed stays in the form
    assert table_counts(User, Enrollment, AuditEvent) == before


def test_adding_a_co_instructor_who_is_a_student(client, school):
    credential, instructor = school
    cohort = factories.cohort(instructor, credential)
    student = factories.user(Role.STUDENT)
    login(client, instructor.email)
    response = post_form(client, f"/cohorts/{cohort.id}/instructors", {"email": student.email})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert errors_beside(page) == {
        "email": [f"There is no instructor account with the email {student.email}."]
    }
    assert f'value="{cohort.name}"' in page  # the settings above are the cohort's own
    teachers = select(cohort_instructor.c.user_id).where(cohort_instructor.c.cohort_id == cohort.id)
    assert db.session.scalars(teachers).all() == [instructor.id]


def test_an_override_of_an_unknown_requirement_without_a_reason(client, school):
    credential, instructor = school
    student = factories.user(Role.STUDENT)
    cohort = factories.cohort(instructor, credential, [student])
    login(client, instructor.email)
    entries = ledger_count()
    response = post_form(
        client,
        f"/cohorts/{cohort.id}/students/{student.id}/overrides",
        {"key": "TERM-9", "decision": "met", "reason": "  "},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert errors_beside(page) == {
        "key": ["Choose one of the cohort's requirements."],
        "reason": ["Give the reason for the override; it is kept in the record."],
    }
    assert ledger_count() == entries


def test_moving_a_student_to_the_cohort_they_are_in(client, school):
    credential, instructor = school
    student = factories.user(Role.STUDENT)
    cohort = factories.cohort(instructor, credential, [student])
    factories.cohort(instructor, credential, name="Another cohort")
    login(client, instructor.email)
    response = post_form(
        client, f"/cohorts/{cohort.id}/students/{student.id}/move", {"target": cohort.id}
    )
    assert response.status_code == 400
    assert errors_beside(response.get_data(as_text=True)) == {
        "target": ["Choose a different cohort to move the student to."]
    }
    assert table_counts(Enrollment) == (1,)


def test_a_due_date_outside_the_cohort_and_a_module_not_in_the_plan(client, school):
    credential, instructor = school
    cohort = factories.cohort(instructor, credential)
    today = utcnow().date()
    stored = db.session.get(Cohort, cohort.id)
    stored.start_date, stored.exam_date = today, today + timedelta(days=60)
    db.session.commit()
    login(client, instructor.email)
    url = f"/cohorts/{cohort.id}/plan"
    late = (today + timedelta(days=61)).isoformat()
    response = post_form(client, url, {"module_code": "TERM-2", "due_on": late})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    message = "A due date must fall between the start date and the exam date."
    assert inline_errors(page) == [("TERM-2", message)]  # in TERM-2's row, and only there
    assert f'value="{late}"' in page
    # A module the plan does not have has no row: both problems go above the plan.
    response = post_form(client, url, {"module_code": "NOPE-1", "due_on": late})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert inline_errors(page) == []
    alert = re.search(r'<div class="flash flash-error" role="alert">(.*?)</div>', page, re.S)
    assert "not in this cohort&#39;s study plan" in alert.group(1) and message in alert.group(1)
    assert table_counts(PlannedDueDate) == (0,)


def test_an_exam_date_in_the_past(client, school):
    credential, instructor = school
    student = factories.user(Role.STUDENT)
    cohort = factories.cohort(instructor, credential, [student])
    other = factories.cohort(instructor, credential, [student], name="Another cohort")
    login(client, student.email)
    past = (utcnow().date() - timedelta(days=1)).isoformat()
    response = post_form(client, f"/dashboard/exam/{cohort.id}", {"booked_on": past})
    assert response.status_code == 400
    assert inline_errors(response.get_data(as_text=True)) == [
        (f"/dashboard/exam/{cohort.id}", "The exam date you booked cannot be in the past.")
    ]
    assert f"/dashboard/exam/{other.id}" in response.get_data(as_text=True)
    booked = db.session.scalars(select(Enrollment.exam_booked_on)).all()
    assert booked == [None, None]


def test_a_join_code_that_cannot_be_one(client, school):
    login(client, factories.user(Role.STUDENT).email)
    response = post_form(client, "/join", {"code": "ABCD-EFG0"})  # 0 is never in a code
    assert response.status_code == 400
    assert list(errors_beside(response.get_data(as_text=True))) == ["code"]
    assert "8 letters and digits" in errors_beside(response.get_data(as_text=True))["code"][0]


def test_a_roster_file_without_a_header_row(client, school):
    credential, instructor = school
    cohort = factories.cohort(instructor, credential)
    login(client, instructor.email)
    response = post_form(
        client,
        f"/cohorts/{cohort.id}/roster",
        {"file": (io.BytesIO(b"ana@school.edu,Ana,Lima\r\n"), "roster.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    (message,) = errors_beside(response.get_data(as_text=True))["file"]
    assert "the header row is missing" in message
    assert table_counts(Enrollment) == (0,)
