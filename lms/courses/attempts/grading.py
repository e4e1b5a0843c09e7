"""Grading an attempt: at the student's submission, or at its deadline once its time is up.

An attempt whose deadline has passed is graded (written: status, score, the ledger entry, the
audit event) by the next write that touches it: the student's next start, save or submission
on it or its module. A page that merely shows it (a GET) computes the same grade from the
rules and writes nothing: ``result_of`` says "time is up" with the score it will get."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from lms.auth.models import User
from lms.courses.attempts.loading import attempts_at, load_attempt, load_whole
from lms.courses.models import (
    Attempt,
    AttemptAnswer,
    AttemptStatus,
    Module,
    Question,
    QuestionKind,
    Quiz,
)
from lms.courses.rules import code_entry, grading, timing
from lms.extensions import db
from lms.ledger import service as ledger
from lms.ledger.audit import record_event
from lms.ledger.models import LedgerKind


def keys_of(questions: Iterable[Question]) -> list[grading.QuestionKey]:
    """The grader's view of loaded questions (with their choices)."""
    return [
        grading.QuestionKey(
            question_id=question.id,
            choice_ids=frozenset(choice.id for choice in question.choices),
            correct_ids=frozenset(choice.id for choice in question.choices if choice.is_correct),
            boxes=code_entry.boxes_of(question.code_boxes)
            if question.kind is QuestionKind.CODE_ENTRY
            else None,
        )
        for question in questions
    ]


def answer_keys(quiz: Quiz) -> list[grading.QuestionKey]:
    """The grader's view of a loaded quiz's fixed list."""
    return keys_of(item.question for item in quiz.items)


def chosen_of(attempt: Attempt) -> dict[int, grading.Answer]:
    """The answer saved for each answered question of a loaded attempt: the choices picked,
    or the text typed in each box of a code-entry question."""
    return {
        answer.question_id: tuple(answer.typed_codes)
        if answer.typed_codes is not None
        else frozenset(answer.choice_ids)
        for answer in attempt.answers
    }


def grade_of(attempt: Attempt) -> grading.Grade:
    """The grade the saved answers of a loaded attempt earn (nothing is written)."""
    keys = keys_of(item.question for item in attempt.questions)
    return grading.grade(keys, chosen_of(attempt), attempt.quiz.passing_score)


@dataclass(frozen=True)
class AttemptResult:
    """An attempt's result as its pages show it."""

    attempt_id: int
    submitted_at: datetime
    score: float
    passed: bool
    closed_by_deadline: bool
    time_is_up: bool  # its deadline passed and nothing has graded it yet: computed, not stored


def result_of(attempt: Attempt, now: datetime) -> AttemptResult | None:
    """The result of a graded attempt as stored; of an attempt whose time is up, the grade it
    will get at its deadline (the attempt must be loaded whole); ``None`` while it is open."""
    if attempt.status is AttemptStatus.SUBMITTED and attempt.submitted_at is not None:
        return AttemptResult(
            attempt.id,
            attempt.submitted_at,
            attempt.score or 0.0,
            bool(attempt.passed),
            attempt.closed_by_deadline,
            time_is_up=False,
        )
    if attempt.deadline_at is None or not timing.is_overdue(attempt.deadline_at, now):
        return None  # open
    due = grade_of(attempt)
    return AttemptResult(attempt.id, attempt.deadline_at, due.score, due.passed, True, True)


def answers_right(attempt: Attempt, result: AttemptResult) -> dict[int, bool]:
    """Whether each question of a loaded attempt is answered right: as graded, or as it will
    be graded at the deadline."""
    if result.time_is_up:
        return {item.question_id: item.is_correct for item in grade_of(attempt).results}
    return {answer.question_id: answer.is_correct for answer in attempt.answers}


def answers_credit(attempt: Attempt, result: AttemptResult) -> dict[int, float]:
    """The credit (0..1) each question of a loaded attempt earned: partial for a code-entry
    question, 0 or 1 for a choice question."""
    if result.time_is_up:
        return {item.question_id: item.credit for item in grade_of(attempt).results}
    return {
        answer.question_id: answer.credit if answer.credit is not None else float(answer.is_correct)
        for answer in attempt.answers
    }


def results_of(attempts: list[Attempt], now: datetime) -> list[AttemptResult]:
    """The results of a student's attempts (bare rows), graded or with the time up, in their
    order; the overdue ones are loaded whole first, in four queries whatever their number."""
    load_whole(
        a.id
        for a in attempts
        if a.status is AttemptStatus.IN_PROGRESS and timing.is_overdue(a.deadline_at, now)
    )
    return [result for result in (result_of(a, now) for a in attempts) if result is not None]


def close_if_overdue(attempt: Attempt, now: datetime) -> bool:
    """Grade an attempt whose deadline has passed, as of its deadline; True if it did. Only a
    write (a POST of its student) calls this."""
    if attempt.status is AttemptStatus.IN_PROGRESS and timing.is_overdue(attempt.deadline_at, now):
        whole = load_attempt(attempt.id)  # a bare row from a listing: load it whole
        if whole is not None and whole.deadline_at is not None:
            grade_attempt(whole, whole.deadline_at, by_deadline=True)
            return True
    return False


def close_overdue_attempts(student: User, module_id: int, now: datetime) -> bool:
    """Grade, at their deadline, the student's attempts at this module whose time is up;
    True when one was graded."""
    if not student.is_student:
        return False
    overdue = db.session.scalars(
        select(Attempt)
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .where(
            Quiz.module_id == module_id,
            Attempt.student_id == student.id,
            Attempt.status == AttemptStatus.IN_PROGRESS,
            Attempt.deadline_at <= now,
        )
    ).all()
    return any([close_if_overdue(attempt, now) for attempt in overdue])


def grade_attempt(attempt: Attempt, finished_at: datetime, by_deadline: bool) -> None:
    """Grade a loaded attempt once, as of ``finished_at``: its score, each answer, the audit
    event, and a pass in the ledger."""
    # Claim the attempt with a conditional UPDATE: of two concurrent submissions (a double
    # click) only one changes the row, so the attempt is graded once.
    claimed = db.session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.status == AttemptStatus.IN_PROGRESS)
        .values(status=AttemptStatus.SUBMITTED, submitted_at=finished_at)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.refresh(attempt)
        return
    attempt.status = AttemptStatus.SUBMITTED
    attempt.submitted_at = finished_at
    result = grade_of(attempt)
    existing = {a.question_id: a for a in attempt.answers}
    for item in result.results:
        row = existing.get(item.question_id)
        if row is None:
            row = AttemptAnswer(
                attempt_id=attempt.id, question_id=item.question_id, choice_ids=[], is_correct=False
            )
            db.session.add(row)
            attempt.answers.append(row)
        row.is_correct = item.is_correct
        if item.codes is not None:
            row.credit = item.credit
    attempt.score = result.score
    attempt.passed = result.passed
    attempt.closed_by_deadline = by_deadline
    db.session.flush()
    student = db.session.get(User, attempt.student_id)
    record_event(
        "attempt.graded",
        actor=student,
        now=finished_at,
        target_type="attempt",
        target_id=attempt.id,
        details={"score": result.score, "passed": result.passed, "by_deadline": by_deadline},
    )
    if result.passed:
        ledger.append_entry(
            student=student,
            kind=LedgerKind.MODULE_COMPLETED,
            module_id=attempt.quiz.module_id,
            module_version=attempt.quiz.module.published_version,
            score=result.score,
            source="quiz",
            source_ref=f"attempt:{attempt.id}",
            actor=student,
            now=finished_at,
        )
    else:  # a pass is announced by its ledger entry; a failure changes the facts too
        ledger.facts_changed.send(None, student_ids=[student.id], now=finished_at)
    db.session.flush()


@dataclass(frozen=True)
class QuizStanding:
    """A student's attempts at a module's quiz, as the module page shows them."""

    results: list[AttemptResult]  # graded, or with the time up, oldest first
    open_attempt: Attempt | None  # in progress with time left: the one to resume
    used_up: bool  # every attempt allowed is used (graded or not)


def standing(student: User, module: Module, now: datetime) -> QuizStanding:
    """Where a student stands at a module's quiz; nothing is written (an attempt whose time
    is up shows the grade it will get)."""
    quiz = module.quiz
    if quiz is None or not student.is_student:
        return QuizStanding([], None, False)
    attempts = attempts_at(student.id, quiz.id)
    results = results_of(attempts, now)
    graded_or_due = {result.attempt_id for result in results}
    open_attempt = next((a for a in attempts if a.id not in graded_or_due), None)
    used_up = (
        quiz.max_attempts is not None
        and open_attempt is None
        and len(attempts) >= quiz.max_attempts
    )
    return QuizStanding(results, open_attempt, used_up)
