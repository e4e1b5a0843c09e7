"""Instructors' cohorts and the student dashboard."""

import re

import pytest
from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.courses import time_on_task
from lms.courses.attempts import sitting
from lms.credentials import service as credentials
from lms.credentials.rules import EvidenceKind
from lms.enrollment import overrides
from lms.enrollment import service as enrollment
from lms.enrollment.models import Cohort, Enrollment, EnrollmentStatus
from lms.enrollment.progress.matrix import cohort_progress
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import count_queries, login, post_form
from tests.factories import NOW


@pytest.fixture
def school(app):
    """A course of three modules, a CPC credential needing all three, an instructor."""
    factories.course("TERM", modules=3)
    credential = factories.credential("CPC", modules=["TERM-1", "TERM-2", "TERM-3"])
    instructor = factories.user(Role.INSTRUCTOR)
    return credential, instructor


def cohort_count():
    return db.session.scalar(select(func.count()).select_from(Cohort))


def test_instructor_creates_a_cohort_and_enrols_a_student(client, school):
    credential, instructor = school
    student = factories.user(Role.STUDENT, name="Sam Rivera")
    login(client, instructor.email)
    assert credential.code in client.get("/cohorts/new").get_data(as_text=True)

    response = post_form(
        client,
        "/cohorts/new",
        {
            "name": "CPC day class",
            "credential_id": credential.id,
            "start_date": "2026-09-01",
            "exam_date": "2027-01-15",
        },
    )
    assert response.status_code == 302
    cohort = db.session.scalar(select(Cohort))
    assert (cohort.name, cohort.credential_id) == ("CPC day class", credential.id)
    assert response.headers["Location"] == f"/cohorts/{cohort.id}"
    assert "CPC day class" in client.get("/cohorts").get_data(as_text=True)

    response = post_form(
        client, f"/cohorts/{cohort.id}/enrollments", {"email": student.email.upper()}
    )
    assert response.status_code == 302
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    # Sam already has an account: asked to accept, and counted nowhere until then
    assert "Sam Rivera already has an account: they were asked by email to accept" in page
    assert "<strong>0 of 0</strong> students ready" in page and "awaiting acceptance" in page
    enrolment = db.session.scalar(select(Enrollment))
    assert (enrolment.student_id, enrolment.status) == (student.id, EnrollmentStatus.PENDING)
    client.get("/logout")
    login(client, student.email)
    post_form(client, f"/dashboard/places/{enrolment.id}", {"answer": "accept"})
    client.get("/logout")
    login(client, instructor.email)
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "<strong>0 of 1</strong> students ready" in page and "awaiting acceptance" not in page
    db.session.refresh(enrolment)
    assert enrolment.status is EnrollmentStatus.ACTIVE
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "cohort.created" in actions and "enrollment.invited" in actions
    assert "enrollment.accepted" in actions


def test_bad_cohort_forms_change_nothing(client, school):
    credential, instructor = school
    login(client, instructor.email)
    base = {"name": "Evening", "credential_id": credential.id, "start_date": "2026-09-01"}
    post_form(client, "/cohorts/new", base)
    cases = [
        ({**base, "exam_date": "2026-08-01", "name": "Other"}, "cannot be before the start date"),
        ({**base, "name": "evening"}, "You already teach a cohort named"),
        ({**base, "name": ""}, "This field is required"),
        ({**base, "credential_id": "999"}, "Not a valid choice"),
        ({**base, "start_date": "someday", "name": "X"}, "Not a valid date value"),
    ]
    for data, message in cases:
        response = post_form(client, "/cohorts/new", data)
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True), data
    assert cohort_count() == 1


def test_enrolling_unknown_or_already_enrolled_students_changes_nothing(client, school):
    credential, instructor = school
    student = factories.user(Role.STUDENT)
    cohort = factories.cohort(instructor, credential, [student])
    login(client, instructor.email)
    for email, status, message in [
        ("nobody@example.org", 400, "There is no student account"),
        (instructor.email, 400, "There is no student account"),
        (student.email, 409, "is already enrolled"),
    ]:
        response = post_form(client, f"/cohorts/{cohort.id}/enrollments", {"email": email})
        assert response.status_code == status
        assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 1


def test_instructor_of_another_cohort_gets_404(app, client, school):
    credential, instructor = school
    cohort = factories.cohort(instructor, credential, [factories.user(Role.STUDENT)])
    other = factories.user(Role.INSTRUCTOR)
    login(client, other.email)
    assert client.get(f"/cohorts/{cohort.id}").status_code == 404
    assert (
        post_form(
            client, f"/cohorts/{cohort.id}/enrollments", {"email": "x@example.org"}
        ).status_code
        == 404
    )
    assert cohort.name not in client.get("/cohorts").get_data(as_text=True)


def test_admin_sees_every_cohort(client, school):
    credential, instructor = school
    cohort = factories.cohort(instructor, credential)
    admin = factories.user(Role.ADMIN)
    login(client, admin.email)
    assert client.get(f"/cohorts/{cohort.id}").status_code == 200


def test_dashboard_progress_bar_moves_and_lists_what_is_missing(client, school):
    credential, instructor = school
    student = factories.user(Role.STUDENT)
    factories.cohort(instructor, credential, [student])
    login(client, student.email)
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'value="0"' in page
    assert "Pass Module 1 of TERM (TERM-1) with 70% or more: not attempted yet" in page

    module = factories.module("TERM-1")
    post_form(client, f"/modules/{module.id}/quiz", factories.answer_form("TERM-1"))
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'value="33"' in page
    assert "TERM-1) with 70% or more" not in page
    assert "Pass Module 2 of TERM (TERM-2) with 70% or more: not attempted yet" in page


def test_matrix_shows_scores_and_readiness(client, school):
    credential, instructor = school
    ready = factories.user(Role.STUDENT, name="Ada Ready")
    started = factories.user(Role.STUDENT, name="Ben Started")
    cohort = factories.cohort(instructor, credential, [ready, started])
    for code in ("TERM-1", "TERM-2", "TERM-3"):
        factories.pass_module(ready, code)
    factories.pass_module(started, "TERM-1")
    login(client, instructor.email)
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "<strong>1 of 2</strong> students ready" in page
    rows = re.findall(r"<tr[^>]*>\s*<th scope=\"row\">(.*?)</tr>", page, re.S)
    assert "Ada Ready" in rows[0] and rows[0].count("cell-done") == 3 and "Issued" in rows[0]
    assert "Ben Started" in rows[1] and rows[1].count("cell-done") == 1
    assert rows[1].count("cell-not_started") == 2


def test_matrix_makes_the_same_number_of_queries_whatever_the_cohort_size(app, client, school):
    credential, instructor = school
    cohort_ids = {}
    for size in (1, 30, 300):
        cohort = factories.cohort(instructor, credential)
        students = factories.many_students(cohort, size, prefix=f"size{size}-")
        cohort_ids[size] = cohort.id
        # Every kind of fact present in every cohort: passes, failed attempts, an override,
        # pending evidence and an exam booking.
        factories.pass_module(students[0], "TERM-1")
        sitting.submit_quiz(
            students[-1], factories.module("TERM-2").id, factories.answers("TERM-2", 0), NOW
        )
        loaded = enrollment.get_cohort_for(instructor, cohort.id)
        overrides.record_override(
            instructor,
            loaded,
            enrollment.get_enrollment_for(instructor, loaded, students[-1].id),
            key="TERM-3",
            met=True,
            reason="RPL",
            now=NOW,
        )
        credentials.submit_evidence(
            students[-1], EvidenceKind.HS_DIPLOMA_OR_GED, "GED, Ohio, 2019", NOW
        )
        db.session.commit()
    instructor_id = instructor.id
    counts, page_counts = {}, {}
    login(client, instructor.email)
    for size, cohort_id in cohort_ids.items():
        db.session.expunge_all()  # nothing cached: every fact comes from the database
        actor = db.session.get(User, instructor_id)
        with count_queries() as queries:
            progress = cohort_progress(
                enrollment.get_cohort_for(actor, cohort_id), now=factories.NOW
            )
        assert len(progress.rows) == size
        counts[size] = len(queries)
        with count_queries() as queries:
            page = client.get(f"/cohorts/{cohort_id}?sort=progress")
        assert page.status_code == 200
        # a page shows 50 students; the counts and the sort cover all of them
        assert page.get_data(as_text=True).count('<th scope="row">') == min(size, 50)
        assert f"Students 1–{min(size, 50)} of {size}" in page.get_data(as_text=True)
        page_counts[size] = len(queries)
        last = -(-size // 50)
        with count_queries() as queries:
            page = client.get(f"/cohorts/{cohort_id}?sort=progress&page={last}")
        assert page.get_data(as_text=True).count('<th scope="row">') == size - 50 * (last - 1)
        assert len(queries) == page_counts[size]
    assert counts[1] == counts[30] == counts[300], counts
    assert page_counts[1] == page_counts[30] == page_counts[300], page_counts


def test_student_cannot_open_cohort_pages(client, school):
    credential, instructor = school
    student = factories.user(Role.STUDENT)
    cohort = factories.cohort(instructor, credential, [student])
    login(client, student.email)
    assert client.get(f"/cohorts/{cohort.id}").status_code == 403
    assert post_form(client, "/cohorts/new", {"name": "x"}).status_code == 403
    assert cohort_count() == 1


def test_contact_hours_show_on_both_dashboards(app, client, school):
    from datetime import timedelta

    credential, instructor = school
    student = factories.user(Role.STUDENT, name="Hana Hours")
    cohort = factories.cohort(instructor, credential, [student])
    module = factories.module("TERM-1")
    start = factories.NOW
    for minute in range(0, 91):  # a heartbeat a minute for an hour and a half
        time_on_task.record_heartbeat(student, module.id, start + timedelta(minutes=minute))
    db.session.commit()
    login(client, student.email)
    assert "<strong>1.5 hours</strong>" in client.get("/dashboard").get_data(as_text=True)
    teacher = app.test_client()
    login(teacher, instructor.email)
    page = teacher.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    row = page[page.index("Hana Hours") :]
    assert "<td>1.5</td>" in row[: row.index("</tr>")]
