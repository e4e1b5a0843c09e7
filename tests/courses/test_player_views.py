"""Sitting a quiz through the browser: start, autosave, resume with the clock, deadline,
double submission, review policy, gating and time on task. The clock is injected."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.auth.models import Role
from lms.courses.models import (
    Attempt,
    AttemptAnswer,
    AttemptQuestion,
    AttemptStatus,
    Choice,
    Course,
    Question,
    TimeOnTask,
)
from lms.extensions import db
from lms.ledger.models import AuditEvent, LedgerEntry
from tests import factories
from tests.conftest import count_queries, csrf_token, get_may_write, login, post_form, writes_in
from tests.courses.builders import practice_exam

T0 = factories.NOW


def at(monkeypatch, when):
    monkeypatch.setattr("lms.courses.views.utcnow", lambda: when)


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def start(client, module):
    response = post_form(client, f"/modules/{module.id}/attempts")
    assert response.status_code == 302
    attempt_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return db.session.get(Attempt, attempt_id)


def drawn(attempt):
    return list(
        db.session.scalars(
            select(AttemptQuestion.question_id)
            .where(AttemptQuestion.attempt_id == attempt.id)
            .order_by(AttemptQuestion.position)
        )
    )


def right(question_id):
    return db.session.scalar(
        select(Choice.id).where(Choice.question_id == question_id, Choice.is_correct)
    )


def sit(client, monkeypatch, **exam_options):
    exam = practice_exam(**exam_options)
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    at(monkeypatch, T0)
    return exam, student, start(client, exam)


def test_in_progress_page_never_contains_the_answers(client, monkeypatch):
    _, _, attempt = sit(client, monkeypatch)
    page = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    stems = re.findall(r"(?:ICD-10-CM|CPT) question \d\?", page)
    assert len(stems) == 4
    assert "correct" not in page.lower()
    assert "Rationale" not in page
    assert "<script>" not in page and " on" + "change=" not in page
    assert 'src="/static/js/player.js" defer' in page
    # the key is not guessable from the order: choices are shown as the attempt stored them
    for question_id in drawn(attempt):
        order = db.session.scalar(
            select(AttemptQuestion.choice_order).where(
                AttemptQuestion.attempt_id == attempt.id, AttemptQuestion.question_id == question_id
            )
        )
        shown = re.findall(rf'name="q-{question_id}" value="(\d+)"', page)
        assert [int(choice) for choice in shown] == order


def test_autosave_by_script_and_by_plain_form(client, monkeypatch):
    _, _, attempt = sit(client, monkeypatch)
    first, second = drawn(attempt)[:2]
    response = client.post(
        f"/attempts/{attempt.id}/answers",
        data={f"q-{first}": str(right(first))},
        headers={"X-CSRFToken": csrf_token(client), "Accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.get_json() == {"saved": True, "seconds_left": 1800}
    response = post_form(
        client, f"/attempts/{attempt.id}/answers", {f"q-{second}": str(right(second))}
    )
    assert response.status_code == 302
    saved = db.session.scalars(select(AttemptAnswer.question_id)).all()
    assert sorted(saved) == sorted([first, second])
    assert db.session.get(Attempt, attempt.id).status is AttemptStatus.IN_PROGRESS


def test_closing_the_tab_and_coming_back_keeps_answers_and_clock(client, monkeypatch):
    exam, _, attempt = sit(client, monkeypatch)
    first = drawn(attempt)[0]
    post_form(client, f"/attempts/{attempt.id}/answers", {f"q-{first}": str(right(first))})
    at(monkeypatch, T0 + timedelta(minutes=12))
    module_page = client.get(f"/modules/{exam.id}").get_data(as_text=True)
    assert "Resume your attempt" in module_page
    page = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert 'data-seconds-left="1080"' in page  # 18 minutes left, computed by the server
    assert f'value="{right(first)}" checked' in page


def test_an_answer_after_the_deadline_is_refused_and_the_attempt_graded(client, monkeypatch):
    _, _, attempt = sit(client, monkeypatch)
    questions = drawn(attempt)
    post_form(
        client, f"/attempts/{attempt.id}/answers", {f"q-{questions[0]}": str(right(questions[0]))}
    )
    at(monkeypatch, T0 + timedelta(minutes=30, seconds=1))
    late = {f"q-{q}": str(right(q)) for q in questions}
    response = post_form(client, f"/attempts/{attempt.id}/answers", late)
    assert response.status_code == 409
    graded = db.session.get(Attempt, attempt.id)
    db.session.refresh(graded)
    assert (graded.status, graded.score, graded.closed_by_deadline) == (
        AttemptStatus.SUBMITTED,
        25.0,
        True,
    )
    assert graded.submitted_at == T0 + timedelta(minutes=30)
    assert post_form(client, f"/attempts/{attempt.id}/submit", late).status_code == 302
    assert db.session.get(Attempt, attempt.id).score == 25.0


def test_a_late_submission_is_a_409_and_only_saved_answers_count(client, monkeypatch):
    _, _, attempt = sit(client, monkeypatch)
    at(monkeypatch, T0 + timedelta(hours=1))
    response = post_form(
        client, f"/attempts/{attempt.id}/submit", {f"q-{q}": str(right(q)) for q in drawn(attempt)}
    )
    assert response.status_code == 409
    assert "graded at its deadline" in response.get_data(as_text=True)
    assert db.session.get(Attempt, attempt.id).score == 0.0
    assert count(LedgerEntry) == 0


def state(attempt_id):
    attempt = db.session.get(Attempt, attempt_id)
    db.session.refresh(attempt)
    return attempt.status, attempt.score, attempt.submitted_at, attempt.closed_by_deadline


def test_pages_show_an_overdue_attempt_as_time_is_up_without_writing(client, monkeypatch):
    exam, _, attempt = sit(client, monkeypatch)
    first = drawn(attempt)[0]
    post_form(client, f"/attempts/{attempt.id}/answers", {f"q-{first}": str(right(first))})
    at(monkeypatch, T0 + timedelta(hours=2))
    for path in (f"/attempts/{attempt.id}", f"/modules/{exam.id}"):
        assert get_may_write(client.application, path) is None
        with count_queries() as statements:
            response = client.get(path)
        assert response.status_code == 200
        assert writes_in(statements) == [], path
        page = response.get_data(as_text=True)
        assert "time is up" in page.lower() and "25%" in page, path
    result = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert "1 of 4 right" in result and "Record this result" in result
    assert 'name="q-' not in result  # the player is not offered any more
    module_page = client.get(f"/modules/{exam.id}").get_data(as_text=True)
    assert "Resume your attempt" not in module_page and "Try again" in module_page
    assert state(attempt.id) == (AttemptStatus.IN_PROGRESS, None, None, False)
    graded = select(func.count()).where(AuditEvent.action == "attempt.graded")
    assert db.session.scalar(graded) == count(LedgerEntry) == 0


@pytest.mark.parametrize(
    ("post", "status"),
    [
        ("start", 302),  # a new attempt, after grading the overdue one
        ("quiz", 302),  # start (grading the overdue one), answer nothing, submit
        ("save", 409),
        ("submit", 409),
        ("record", 302),  # the result page's button: a submission without answers
    ],
)
def test_the_next_post_grades_an_overdue_attempt_at_its_deadline(client, monkeypatch, post, status):
    exam, _, attempt = sit(client, monkeypatch)
    questions = drawn(attempt)
    post_form(
        client, f"/attempts/{attempt.id}/answers", {f"q-{questions[0]}": str(right(questions[0]))}
    )
    at(monkeypatch, T0 + timedelta(hours=2))
    shown = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert "25%" in shown
    late = {f"q-{q}": str(right(q)) for q in questions}
    url = {
        "start": (f"/modules/{exam.id}/attempts", {}),
        "quiz": (f"/modules/{exam.id}/quiz", {}),
        "save": (f"/attempts/{attempt.id}/answers", late),
        "submit": (f"/attempts/{attempt.id}/submit", late),
        "record": (f"/attempts/{attempt.id}/submit", {}),
    }[post]
    assert post_form(client, *url).status_code == status
    # graded as it was shown: at its deadline, with the answer saved before it
    assert state(attempt.id) == (AttemptStatus.SUBMITTED, 25.0, T0 + timedelta(minutes=30), True)
    graded = db.session.scalars(
        select(AuditEvent.target_id).where(AuditEvent.action == "attempt.graded")
    ).all()
    assert str(attempt.id) in graded


def test_a_refused_start_keeps_the_grade_of_an_overdue_attempt(client, monkeypatch):
    exam, _, attempt = sit(client, monkeypatch, max_attempts=1)
    at(monkeypatch, T0 + timedelta(hours=2))
    page = client.get(f"/modules/{exam.id}").get_data(as_text=True)
    assert "used every attempt" in page and "time is up" in page
    assert post_form(client, f"/modules/{exam.id}/attempts").status_code == 409
    assert state(attempt.id) == (AttemptStatus.SUBMITTED, 0.0, T0 + timedelta(minutes=30), True)
    assert count(Attempt) == 1


def test_a_double_submission_grades_once(client, monkeypatch):
    _, student, attempt = sit(client, monkeypatch, minutes=None)
    form = {f"q-{q}": str(right(q)) for q in drawn(attempt)}
    first = post_form(client, f"/attempts/{attempt.id}/submit", form)
    second = post_form(client, f"/attempts/{attempt.id}/submit", form)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert count(LedgerEntry) == 1
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "attempt.graded")
        )
        == 1
    )
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "Score by content area" in page and "Pacing" in page
    assert "Rationale CPT" in page  # review after each attempt by default


# every question left blank, and the student said to submit as it is
BLANK_CONFIRMED = {"unanswered": "confirmed"}


def test_review_policy_never_hides_the_answers(client, monkeypatch):
    _, _, attempt = sit(client, monkeypatch, review_policy="never")
    response = post_form(client, f"/attempts/{attempt.id}/submit", BLANK_CONFIRMED)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Rationale" not in page and "(correct answer)" not in page
    assert "not shown" in page


def test_review_after_passing_hides_answers_of_a_failed_attempt(client, monkeypatch):
    _, _, attempt = sit(client, monkeypatch, review_policy="after_passing")
    response = post_form(client, f"/attempts/{attempt.id}/submit", BLANK_CONFIRMED)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Rationale" not in page
    assert "shown once you pass" in page


def test_the_attempt_limit_is_enforced(client, monkeypatch):
    exam, _, attempt = sit(client, monkeypatch, max_attempts=1)
    post_form(client, f"/attempts/{attempt.id}/submit", BLANK_CONFIRMED)
    page = client.get(f"/modules/{exam.id}").get_data(as_text=True)
    assert "used every attempt" in page
    response = post_form(client, f"/modules/{exam.id}/attempts")
    assert response.status_code == 409
    assert count(Attempt) == 1


def test_answers_to_questions_not_drawn_are_refused_and_change_nothing(client, monkeypatch):
    _, _, attempt = sit(client, monkeypatch, per_area=4)
    not_drawn = db.session.scalar(select(Question.id).where(Question.id.not_in(drawn(attempt))))
    response = post_form(
        client, f"/attempts/{attempt.id}/submit", {f"q-{not_drawn}": str(right(not_drawn))}
    )
    assert response.status_code == 400
    assert db.session.get(Attempt, attempt.id).status is AttemptStatus.IN_PROGRESS
    assert count(AttemptAnswer) == 0


def test_another_student_cannot_touch_an_attempt(app, client, monkeypatch):
    _, _, attempt = sit(client, monkeypatch)
    other = app.test_client()
    login(other, factories.user(Role.STUDENT).email)
    assert other.get(f"/attempts/{attempt.id}").status_code == 404
    assert post_form(other, f"/attempts/{attempt.id}/answers", {}).status_code == 404
    assert post_form(other, f"/attempts/{attempt.id}/submit", {}).status_code == 404


def test_sequential_course_locks_later_modules_until_the_previous_is_complete(app, client):
    factories.course("SEQ")
    course = db.session.scalar(select(Course).where(Course.code == "SEQ"))
    instructor = factories.user(Role.INSTRUCTOR, author=True)
    login(client, instructor.email)
    response = post_form(client, f"/courses/{course.id}/sequential", {"sequential": "on"})
    assert response.status_code == 302
    db.session.refresh(course)
    assert course.sequential
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "course.sequential_changed")
        )
        == 1
    )

    student = factories.user(Role.STUDENT)
    learner = app.test_client()
    login(learner, student.email)
    second = factories.module("SEQ-2")
    page = learner.get(f"/modules/{second.id}").get_data(as_text=True)
    assert "This module is locked" in page and "Lesson 2" not in page
    assert post_form(learner, f"/modules/{second.id}/attempts").status_code == 409
    factories.pass_module(student, "SEQ-1")
    page = learner.get(f"/modules/{second.id}").get_data(as_text=True)
    assert "This module is locked" not in page and "Lesson 2" in page


def test_students_cannot_change_gating(client):
    factories.course("SEQ")
    course = db.session.scalar(select(Course).where(Course.code == "SEQ"))
    login(client, factories.user(Role.STUDENT).email)
    assert (
        post_form(client, f"/courses/{course.id}/sequential", {"sequential": "on"}).status_code
        == 403
    )


def test_heartbeats_count_time_on_task_capped_and_show_as_contact_hours(client, monkeypatch):
    exam = practice_exam(lesson=True)
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    page = client.get(f"/modules/{exam.id}").get_data(as_text=True)
    assert f'data-heartbeat-url="/modules/{exam.id}/heartbeat"' in page
    headers = {"X-CSRFToken": csrf_token(client), "Accept": "application/json"}
    for seconds in (0, 60, 120, 3720):  # the last beat comes after an hour idle: capped
        at(monkeypatch, T0 + timedelta(seconds=seconds))
        response = client.post(f"/modules/{exam.id}/heartbeat", headers=headers)
        assert response.status_code == 200
    row = db.session.scalar(select(TimeOnTask))
    assert row.seconds == 60 + 60 + 90
    db.session.query(TimeOnTask).update({TimeOnTask.seconds: 3 * 3600})
    db.session.commit()
    assert "<strong>3.0 h</strong>" in client.get("/courses").get_data(as_text=True)


def test_heartbeat_refuses_other_roles(client):
    exam = practice_exam(lesson=True)
    login(client, factories.user(Role.INSTRUCTOR).email)
    response = client.post(
        f"/modules/{exam.id}/heartbeat", headers={"X-CSRFToken": csrf_token(client)}
    )
    assert response.status_code == 403
    assert count(TimeOnTask) == 0


@pytest.mark.parametrize("bad", ["²", "1" * 20])
def test_answers_with_ids_that_are_not_ids_are_a_400_and_change_nothing(client, monkeypatch, bad):
    _, _, attempt = sit(client, monkeypatch)
    first = drawn(attempt)[0]
    for answers in ({f"q-{first}": bad}, {f"q-{bad}": str(right(first))}):
        assert post_form(client, f"/attempts/{attempt.id}/answers", answers).status_code == 400
        assert post_form(client, f"/attempts/{attempt.id}/submit", answers).status_code == 400
    assert count(AttemptAnswer) == 0
    assert db.session.get(Attempt, attempt.id).status is AttemptStatus.IN_PROGRESS


def test_submitting_with_blank_questions_asks_first_and_keeps_the_answers(client, monkeypatch):
    _, _, attempt = sit(client, monkeypatch)  # four questions
    questions = drawn(attempt)
    one = {f"q-{questions[0]}": str(right(questions[0]))}

    response = post_form(client, f"/attempts/{attempt.id}/submit", one)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "You have not answered 3 questions:" in page
    assert all(f'<a href="#question-{n}">{n}</a>' in page for n in (2, 3, 4))
    assert 'id="question-2"' in page and "question unanswered" in page
    assert 'name="unanswered" value="confirmed"' in page and 'form="quiz-form"' in page
    assert f'value="{right(questions[0])}" checked' in page  # the answer sent is kept
    graded = db.session.get(Attempt, attempt.id)
    db.session.refresh(graded)
    assert graded.status is AttemptStatus.IN_PROGRESS and count(AttemptAnswer) == 1

    response = post_form(client, f"/attempts/{attempt.id}/submit", {"unanswered": "confirmed"})

    assert response.status_code == 302
    db.session.refresh(graded)
    assert (graded.status, graded.score) == (AttemptStatus.SUBMITTED, 25.0)


def test_time_run_out_with_blanks_is_not_on_pace(client, monkeypatch):
    _, _, attempt = sit(client, monkeypatch)  # four questions, 30 minutes
    first = drawn(attempt)[0]
    post_form(client, f"/attempts/{attempt.id}/answers", {f"q-{first}": str(right(first))})
    at(monkeypatch, T0 + timedelta(minutes=31))

    page = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)

    assert "1 of 4 questions answered" in page
    assert "Not on pace</strong>: time ran out with 3 questions unanswered." in page
    assert "On pace" not in page
