"""A student's sitting of a quiz: start (or resume) an attempt, autosave answers, submit.

Each of these writes first grades, at its deadline, an attempt whose time is up: they are
the next write that touches it (``grading``)."""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from lms.auth.models import User
from lms.courses import blueprints
from lms.courses.accommodations import extra_time_multiplier
from lms.courses.attempts.grading import close_if_overdue, grade_attempt, keys_of
from lms.courses.attempts.loading import attempts_at, own_attempt
from lms.courses.catalogue import get_module
from lms.courses.gating import ensure_module_open
from lms.courses.models import (
    Attempt,
    AttemptAnswer,
    AttemptQuestion,
    AttemptStatus,
    Question,
    QuestionKind,
)
from lms.courses.rules import drawing, grading, timing
from lms.courses.rules.grading import Answer
from lms.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Problem
from lms.extensions import db


def start_attempt(
    student: User, module_id: int, now: datetime, rng: random.Random | None = None
) -> Attempt:
    """Start (or resume) the student's attempt at a module's quiz: draw the questions, fix the
    order of their choices, and set the deadline of a timed quiz (later by the student's
    extra time, if an accommodation stands)."""
    if not student.is_student:
        raise PermissionDenied("Only students take quizzes.")
    module = get_module(module_id, questions=False)  # the drawn questions are loaded below
    quiz = module.quiz
    if quiz is None:
        raise NotFound("This module has no quiz.")
    ensure_module_open(student, module)
    attempts = attempts_at(student.id, quiz.id)
    for attempt in attempts:
        close_if_overdue(attempt, now)
    open_attempt = next((a for a in attempts if a.status is AttemptStatus.IN_PROGRESS), None)
    if open_attempt is not None:
        return open_attempt
    if quiz.max_attempts is not None and len(attempts) >= quiz.max_attempts:
        raise Conflict(f"You have used all {quiz.max_attempts} attempts allowed at this quiz.")
    rng = rng or random.Random(secrets.randbits(64))  # noqa: S311 - shuffling, not secrets
    rows = blueprints.blueprint_rows(quiz)
    if rows:
        try:
            question_ids = drawing.draw_questions(
                rows, blueprints.bank_pool(quiz.bank_id), rng, _questions_met(attempts)
            )
        except drawing.DrawError as error:
            raise Conflict(
                problems=[
                    Problem("This quiz cannot be drawn from its bank."),
                    *(Problem(short) for short in error.problems),
                ]
            ) from error
    else:
        question_ids = [item.question_id for item in quiz.items]
    if not question_ids:
        raise Conflict("This quiz has no questions yet. Ask your instructor.")
    questions = {
        q.id: q
        for q in db.session.scalars(
            select(Question)
            .where(Question.id.in_(question_ids))
            .options(selectinload(Question.choices))
        )
    }
    multiplier = extra_time_multiplier(student.id) if quiz.time_limit_minutes else None
    attempt = Attempt(
        quiz_id=quiz.id,
        student_id=student.id,
        number=max((a.number for a in attempts), default=0) + 1,
        status=AttemptStatus.IN_PROGRESS,
        started_at=now,
        deadline_at=timing.deadline_for(now, quiz.time_limit_minutes, multiplier),
        time_multiplier=multiplier,
    )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
            db.session.flush()
    except IntegrityError as error:  # another request took this attempt's number first
        raise Conflict(
            "This quiz was started at the same moment in another window or tab. Open the "
            "module again to carry on with that attempt."
        ) from error
    drawn = []
    for position, question_id in enumerate(question_ids, start=1):
        question = questions[question_id]
        order = drawing.shuffle_choices(
            [c.id for c in question.choices], rng, question.kind is QuestionKind.TRUE_FALSE
        )
        drawn.append(
            {
                "attempt_id": attempt.id,
                "question_id": question_id,
                "position": position,
                "choice_order": order,
            }
        )
    # One statement for every question (the ORM sent one INSERT ... RETURNING per row, all
    # inside the write lock on SQLite); the attempt reads them back when it needs them.
    db.session.execute(insert(AttemptQuestion), drawn)
    db.session.expire(attempt, ["questions"])
    return attempt


def _questions_met(attempts: Sequence[Attempt]) -> frozenset[int]:
    """Every question the student was given in these earlier attempts."""
    if not attempts:
        return frozenset()
    return frozenset(
        db.session.scalars(
            select(AttemptQuestion.question_id).where(
                AttemptQuestion.attempt_id.in_([a.id for a in attempts])
            )
        )
    )


def submit_quiz(
    student: User, module_id: int, answers: Mapping[int, Answer], now: datetime
) -> Attempt:
    """Grade a student's answers to a module's quiz in one go (start, answer, submit); a pass
    is recorded in the ledger."""
    attempt = start_attempt(student, module_id, now)
    return submit_attempt(student, attempt.id, answers, now)


def _check(attempt: Attempt, answers: Mapping[int, Answer], *, strict: bool = False) -> None:
    try:
        grading.check_answers(
            keys_of(item.question for item in attempt.questions), answers, strict=strict
        )
    except grading.CodeEntryError as error:
        raise InvalidInput(
            problems=[Problem(problem, "codes") for problem in error.problems]
        ) from error
    except grading.AnswerError as error:
        raise InvalidInput(
            problems=[
                Problem("These answers do not belong to this quiz."),
                *(Problem(problem) for problem in error.problems),
            ]
        ) from error
    kinds = {item.question_id: item.question.kind for item in attempt.questions}
    several = [
        q
        for q, chosen in answers.items()
        if isinstance(chosen, frozenset)
        and len(chosen) > 1
        and kinds[q] is not QuestionKind.MULTIPLE
    ]
    if several:
        raise InvalidInput("Pick only one answer for a single-answer question.")


def _store_answers(attempt: Attempt, answers: Mapping[int, Answer], now: datetime) -> None:
    existing = {answer.question_id: answer for answer in attempt.answers}
    new_rows = []
    for question_id, chosen in answers.items():
        # A code-entry question keeps the text of each box as typed; a choice question its
        # choices.
        typed = list(chosen) if isinstance(chosen, tuple) else None
        choice_ids = [] if typed is not None else sorted(chosen)
        choice_id = choice_ids[0] if choice_ids else None
        row = existing.get(question_id)
        if row is None:
            new_rows.append(
                {
                    "attempt_id": attempt.id,
                    "question_id": question_id,
                    "choice_ids": choice_ids,
                    "choice_id": choice_id,
                    "typed_codes": typed,
                    "is_correct": False,
                    "answered_at": now,
                }
            )
        else:
            row.choice_ids, row.choice_id, row.answered_at = choice_ids, choice_id, now
            row.typed_codes = typed
    if new_rows:
        # One statement for all the new answers, not one INSERT per answer (a 100-question
        # practice exam's first autosave sent 100), then the attempt's answers read back in
        # one query, for the grading that may follow in this request.
        db.session.flush()  # the changed answers first, so the read sees them
        db.session.execute(insert(AttemptAnswer), new_rows)
        stored = db.session.scalars(
            select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id)
        ).all()
        set_committed_value(attempt, "answers", list(stored))


def _check_flags(attempt: Attempt, flags: frozenset[int] | None) -> None:
    if flags is None:
        return
    drawn = {item.question_id for item in attempt.questions}
    if not flags <= drawn:
        raise InvalidInput("These flags are on questions that are not in this attempt.")


def _store_flags(attempt: Attempt, flags: frozenset[int] | None) -> None:
    """Set "flag for review" on exactly the questions in ``flags`` (``None``: leave the
    flags as they are, for a sender that does not show them)."""
    if flags is None:
        return
    for item in attempt.questions:
        flagged = item.question_id in flags
        if item.flagged != flagged:
            item.flagged = flagged


def save_answers(
    student: User,
    attempt_id: int,
    answers: Mapping[int, Answer],
    now: datetime,
    flags: frozenset[int] | None = None,
) -> Attempt:
    """Autosave answers (and the questions flagged for review) of an attempt in progress.
    After the deadline or the submission the attempt is closed: ``attempt.status`` tells the
    caller, who refuses with 409 after committing the grading done here."""
    attempt = own_attempt(student, attempt_id)
    if close_if_overdue(attempt, now) or not _lock_if_open(attempt):
        return attempt
    _check(attempt, answers)
    _check_flags(attempt, flags)
    _store_answers(attempt, answers, now)
    _store_flags(attempt, flags)
    db.session.flush()
    return attempt


def submit_attempt(
    student: User,
    attempt_id: int,
    answers: Mapping[int, Answer],
    now: datetime,
    flags: frozenset[int] | None = None,
) -> Attempt:
    """Save the last answers (and flags) and grade the attempt. Submitting again returns the
    graded attempt unchanged; after the deadline the attempt is graded at its deadline with
    the answers saved before it (the late answers are not taken)."""
    attempt = own_attempt(student, attempt_id)
    if close_if_overdue(attempt, now) or not _lock_if_open(attempt):
        return attempt
    _check(attempt, answers, strict=True)
    _check_flags(attempt, flags)
    _store_answers(attempt, answers, now)
    _store_flags(attempt, flags)
    grade_attempt(attempt, now, by_deadline=False)
    return attempt


def _lock_if_open(attempt: Attempt) -> bool:
    """Lock the attempt's row if it is still in progress, before writing anything to it.

    A conditional UPDATE is the first write of every change to an attempt: a concurrent
    request (a double click, an autosave racing the submit) waits for it on PostgreSQL and
    then finds the attempt closed, so answers are never written into a graded attempt."""
    if attempt.status is not AttemptStatus.IN_PROGRESS:
        return False
    locked = db.session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.status == AttemptStatus.IN_PROGRESS)
        .values(status=AttemptStatus.IN_PROGRESS)
        .execution_options(synchronize_session=False)
    )
    if locked.rowcount != 1:
        db.session.refresh(attempt)
        return False
    return True
