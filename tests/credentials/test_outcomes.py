"""Real exam outcomes, recorded by the student or the instructor, and the real pass rate."""

import pytest
from sqlalchemy import func, select

from lms.auth.models import Role
from lms.credentials import outcomes
from lms.credentials.models import ExamOutcome
from lms.extensions import db
from lms.ledger.models import LedgerEntry, LedgerKind
from tests import factories
from tests.conftest import login, post_form


@pytest.fixture
def cohort(app):
    factories.course("TERM", modules=1)
    credential = factories.credential("CPC", modules=["TERM-1"])
    instructor = factories.user(Role.INSTRUCTOR)
    students = [factories.user(Role.STUDENT, name=n) for n in ("Ada Lane", "Ben Ode", "Cy Park")]
    return credential, instructor, students, factories.cohort(instructor, credential, students)


def test_student_records_their_result(client, cohort):
    credential, _, (ada, *_), _ = cohort
    login(client, ada.email)
    response = post_form(
        client,
        "/exam-results",
        {"subject_id": str(credential.id), "exam_date": "2026-10-20", "result": "passed"},
    )
    assert response.status_code == 302
    outcome = db.session.scalar(select(ExamOutcome))
    assert (outcome.student_id, outcome.passed, outcome.recorded_by_id) == (ada.id, True, ada.id)
    kinds = db.session.scalars(select(LedgerEntry.kind)).all()
    assert LedgerKind.EXAM_OUTCOME_RECORDED in kinds
    assert "Passed" in client.get("/exam-results").get_data(as_text=True)


def test_future_dates_and_bad_scores_are_refused(client, cohort):
    credential, _, (ada, *_), _ = cohort
    login(client, ada.email)
    for data in (
        {"exam_date": "2099-01-01", "result": "passed"},
        {"exam_date": "2026-10-01", "result": "passed", "score": "1200"},
        {"exam_date": "2026-10-01", "result": "maybe"},
    ):
        response = post_form(client, "/exam-results", {"subject_id": str(credential.id), **data})
        assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ExamOutcome)) == 0


def test_instructor_records_results_and_sees_the_real_pass_rate(app, client, cohort):
    credential, instructor, (ada, ben, cy), group = cohort
    login(client, instructor.email)
    url = f"/cohorts/{group.id}/exam-results"
    for student, date, result, score in [
        (ada, "2026-09-01", "failed", "64"),
        (ada, "2026-10-15", "passed", "78"),
        (ben, "2026-10-15", "passed", ""),
    ]:
        data = {"subject_id": str(student.id), "exam_date": date, "result": result}
        response = post_form(client, url, {**data, "score": score})
        assert response.status_code == 302
    rate = outcomes.pass_rate([ada.id, ben.id, cy.id], credential.id)
    assert (rate.sat, rate.passed, rate.passed_first_time, rate.rate) == (2, 2, 1, 1.0)
    page = client.get(f"/cohorts/{group.id}/certificates").get_data(as_text=True)
    assert "2 of 2</strong> students who sat the CPC exam passed (100%); 1 at their first" in page
    cohort_page = client.get(f"/cohorts/{group.id}").get_data(as_text=True)
    assert "Real CPC exam: <strong>2 of 2</strong> who sat it passed (100%)" in cohort_page

    outsider = factories.user(Role.STUDENT)
    response = post_form(
        client, url, {"subject_id": str(outsider.id), "exam_date": "2026-10-01", "result": "passed"}
    )
    assert response.status_code == 400  # not a student of the cohort
    assert db.session.scalar(select(func.count()).select_from(ExamOutcome)) == 3


def test_an_instructor_s_refused_result_is_shown_beside_its_field(client, cohort):
    _, instructor, (ada, *_), group = cohort
    login(client, instructor.email)
    data = {"subject_id": str(ada.id), "exam_date": "2099-01-01", "result": "passed"}
    response = post_form(client, f"/cohorts/{group.id}/exam-results", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="exam_date-error">The exam date cannot be in the future' in page
    assert "Real exam results" in page  # the certificates page, with the form as it was sent
    assert db.session.scalar(select(func.count()).select_from(ExamOutcome)) == 0
