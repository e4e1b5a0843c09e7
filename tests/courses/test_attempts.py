"""The life of an attempt: draw, autosave, resume, deadline, submit once, attempt limit.
The clock is injected; nothing sleeps."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.auth.models import Role
from lms.courses import catalogue, player
from lms.courses.attempts import grading, loading, sitting
from lms.courses.models import (
    Attempt,
    AttemptAnswer,
    AttemptQuestion,
    AttemptStatus,
    Choice,
    Question,
)
from lms.errors import Conflict, InvalidInput, NotFound
from lms.extensions import db
from lms.ledger.models import AuditEvent, LedgerEntry
from tests import factories
from tests.conftest import count_queries, writes_in
from tests.courses.builders import practice_exam

T0 = factories.NOW


def correct_choice(question_id):
    return db.session.scalar(
        select(Choice.id).where(Choice.question_id == question_id, Choice.is_correct)
    )


def wrong_choice(question_id):
    return db.session.scalar(
        select(Choice.id).where(Choice.question_id == question_id, Choice.is_correct.is_(False))
    )


def drawn(attempt):
    return list(
        db.session.scalars(
            select(AttemptQuestion.question_id)
            .where(AttemptQuestion.attempt_id == attempt.id)
            .order_by(AttemptQuestion.position)
        )
    )


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def start_and_answer_one(exam, student):
    """An attempt started at T0 with its first question answered right (one in four)."""
    attempt = sitting.start_attempt(student, exam.id, T0)
    questions = drawn(attempt)
    sitting.save_answers(
        student, attempt.id, {questions[0]: frozenset({correct_choice(questions[0])})}, T0
    )
    db.session.commit()
    return attempt, questions


@pytest.fixture
def exam(app):
    return practice_exam()


@pytest.fixture
def student(app):
    return factories.user(Role.STUDENT)


def test_start_draws_per_area_stores_choice_order_and_sets_deadline(exam, student):
    attempt = sitting.start_attempt(student, exam.id, T0)
    db.session.commit()
    questions = drawn(attempt)
    assert len(questions) == 4
    rows = db.session.scalars(
        select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt.id)
    ).all()
    for row in rows:
        order = row.choice_order
        ids = db.session.scalars(select(Choice.id).where(Choice.question_id == row.question_id))
        assert sorted(order) == sorted(ids)
    assert attempt.status is AttemptStatus.IN_PROGRESS
    assert attempt.deadline_at == T0 + timedelta(minutes=30)


def test_starting_again_resumes_the_open_attempt(exam, student):
    first = sitting.start_attempt(student, exam.id, T0)
    db.session.commit()
    again = sitting.start_attempt(student, exam.id, T0 + timedelta(minutes=5))
    assert again.id == first.id
    assert count(Attempt) == 1


def test_autosave_then_submit_grades_once_and_records_the_pass(exam, student):
    attempt = sitting.start_attempt(student, exam.id, T0)
    questions = drawn(attempt)
    sitting.save_answers(
        student, attempt.id, {q: frozenset({correct_choice(q)}) for q in questions[:3]}, T0
    )
    db.session.commit()
    last = {questions[3]: frozenset({correct_choice(questions[3])})}
    graded = sitting.submit_attempt(student, attempt.id, last, T0 + timedelta(minutes=10))
    db.session.commit()
    assert (graded.status, graded.score, graded.passed) == (AttemptStatus.SUBMITTED, 100.0, True)
    assert count(LedgerEntry) == 1
    assert count(AttemptAnswer) == 4

    # A double click: the second submission changes nothing and returns the same result.
    again = sitting.submit_attempt(
        student,
        attempt.id,
        {q: frozenset({wrong_choice(q)}) for q in questions},
        T0 + timedelta(minutes=11),
    )
    db.session.commit()
    assert (again.id, again.score, again.submitted_at) == (
        attempt.id,
        100.0,
        T0 + timedelta(minutes=10),
    )
    assert count(LedgerEntry) == 1
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "attempt.graded")
        )
        == 1
    )


def test_answers_after_the_deadline_close_the_attempt_at_the_deadline(exam, student):
    attempt, questions = start_and_answer_one(exam, student)
    late = T0 + timedelta(minutes=31)
    result = sitting.save_answers(
        student, attempt.id, {q: frozenset({correct_choice(q)}) for q in questions}, late
    )
    db.session.commit()
    assert result.status is AttemptStatus.SUBMITTED
    assert result.closed_by_deadline
    assert result.submitted_at == T0 + timedelta(minutes=30)
    assert result.score == 25.0  # only the answer saved before the deadline counts


def test_an_unfinished_attempt_shows_its_grade_when_listed_and_the_next_start_writes_it(
    exam, student
):
    attempt, questions = start_and_answer_one(exam, student)
    later = T0 + timedelta(hours=2)
    with count_queries() as statements:
        standing = grading.standing(student, catalogue.get_module(exam.id), later)
    assert writes_in(statements) == []
    (listed,) = standing.results
    assert (listed.attempt_id, listed.time_is_up, listed.closed_by_deadline) == (
        attempt.id,
        True,
        True,
    )
    assert (listed.submitted_at, listed.score, listed.passed) == (
        T0 + timedelta(minutes=30),
        25.0,
        False,
    )
    assert standing.open_attempt is None
    db.session.commit()
    assert db.session.get(Attempt, attempt.id).status is AttemptStatus.IN_PROGRESS

    # the next write at this quiz grades it at its deadline, with the score it showed
    again = sitting.start_attempt(student, exam.id, later)
    db.session.commit()
    assert again.id != attempt.id
    graded = db.session.get(Attempt, attempt.id)
    assert (graded.status, graded.submitted_at, graded.score, graded.closed_by_deadline) == (
        AttemptStatus.SUBMITTED,
        T0 + timedelta(minutes=30),
        25.0,
        True,
    )
    graded_events = db.session.scalars(
        select(AuditEvent.target_id).where(AuditEvent.action == "attempt.graded")
    ).all()
    assert graded_events == [str(attempt.id)] and count(LedgerEntry) == 0


def test_resume_shows_the_saved_answers_and_the_time_left(exam, student):
    attempt = sitting.start_attempt(student, exam.id, T0)
    q = drawn(attempt)[0]
    choice = correct_choice(q)
    sitting.save_answers(student, attempt.id, {q: frozenset({choice})}, T0)
    db.session.commit()
    resumed = loading.get_attempt_for(student, attempt.id)
    shown = player.player_questions(resumed)
    assert [c.id for c in shown[0].choices if c.picked] == [choice]
    assert player.seconds_left(resumed, T0 + timedelta(minutes=12)) == 18 * 60


def test_attempt_limit(app, student):
    exam = practice_exam(max_attempts=1)
    attempt = sitting.start_attempt(student, exam.id, T0)
    sitting.submit_attempt(student, attempt.id, {}, T0)
    db.session.commit()
    with pytest.raises(Conflict, match="all 1 attempts"):
        sitting.start_attempt(student, exam.id, T0 + timedelta(minutes=1))


def test_a_second_attempt_meets_none_of_the_first_attempt_s_questions(app, student):
    exam = practice_exam(per_area=4, draw=2)  # the bank holds two sittings, no more
    first = sitting.start_attempt(student, exam.id, T0)
    sitting.submit_attempt(student, first.id, {}, T0 + timedelta(minutes=1))
    db.session.commit()
    second = sitting.start_attempt(student, exam.id, T0 + timedelta(minutes=2))
    db.session.commit()
    assert len(drawn(second)) == 4 and not set(drawn(first)) & set(drawn(second))
    sitting.submit_attempt(student, second.id, {}, T0 + timedelta(minutes=3))
    db.session.commit()
    third = sitting.start_attempt(student, exam.id, T0 + timedelta(minutes=4))
    assert len(set(drawn(third))) == 4  # every question met: the draw repeats, never fails


def test_bad_answers_are_refused(exam, student):
    attempt = sitting.start_attempt(student, exam.id, T0)
    questions = drawn(attempt)
    db.session.commit()
    other = practice_exam("PY")
    foreign = sitting.start_attempt(student, other.id, T0)
    foreign_q = drawn(foreign)[0]
    db.session.commit()
    with pytest.raises(InvalidInput, match="not part of this quiz"):
        sitting.save_answers(
            student, attempt.id, {foreign_q: frozenset({correct_choice(foreign_q)})}, T0
        )
    with pytest.raises(InvalidInput, match="does not belong"):
        sitting.save_answers(student, attempt.id, {questions[0]: frozenset({999999})}, T0)
    both = frozenset({correct_choice(questions[0]), wrong_choice(questions[0])})
    with pytest.raises(InvalidInput, match="only one answer"):
        sitting.save_answers(student, attempt.id, {questions[0]: both}, T0)


def test_another_students_attempt_is_not_found(exam, student):
    attempt = sitting.start_attempt(student, exam.id, T0)
    db.session.commit()
    other = factories.user(Role.STUDENT)
    with pytest.raises(NotFound):
        sitting.save_answers(other, attempt.id, {}, T0)
    with pytest.raises(NotFound):
        sitting.submit_attempt(other, attempt.id, {}, T0)


def test_a_blueprint_the_bank_cannot_fill_is_a_clear_conflict(app, student):
    exam = practice_exam(per_area=1, draw=2)
    with pytest.raises(Conflict, match="cannot be drawn"):
        sitting.start_attempt(student, exam.id, T0)


def test_result_view_gives_areas_and_pacing(exam, student):
    attempt = sitting.start_attempt(student, exam.id, T0)
    answers = {}
    for q in drawn(attempt):
        area = db.session.get(Question, q).content_area
        answers[q] = frozenset({correct_choice(q) if area == "CPT" else wrong_choice(q)})
    sitting.submit_attempt(student, attempt.id, answers, T0 + timedelta(minutes=8))
    db.session.commit()
    graded = loading.get_attempt_for(student, attempt.id)
    view = player.result_view(graded, grading.result_of(graded, T0 + timedelta(minutes=9)))
    assert [(a.area, a.score) for a in view.areas] == [("ICD-10-CM", 0.0), ("CPT", 100.0)]
    assert view.pacing.seconds_used == 480
    assert view.pacing.budget_per_question == 450.0
    assert (view.pacing.seconds_per_question, view.pacing.on_pace) == (120.0, True)
    assert view.may_review and len(view.review) == 4
