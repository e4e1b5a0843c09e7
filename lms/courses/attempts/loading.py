"""Reading attempts: one whole (its quiz, questions, choices and answers) in a fixed number
of queries, or a student's attempts at a module's quiz."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import inspect, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.util import identity_key

from lms.auth.models import User
from lms.courses.models import Attempt, AttemptQuestion, Module, Question, Quiz
from lms.errors import NotFound
from lms.extensions import db


def load_whole(attempt_ids: Iterable[int]) -> list[Attempt]:
    """Attempts with their quiz, module and course, answers, questions and choices: four
    queries whatever their number. (Seven with a query per relation: the player and every
    save and submission load an attempt, and the ORM's cost per query made this a fifth of
    the app's CPU under load.)"""
    ids = list(attempt_ids)
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Attempt)
            .where(Attempt.id.in_(ids))
            .options(
                selectinload(Attempt.answers),
                joinedload(Attempt.quiz).joinedload(Quiz.module).joinedload(Module.course),
                selectinload(Attempt.questions)
                .joinedload(AttemptQuestion.question)
                .selectinload(Question.choices),
            )
            .order_by(Attempt.id)
        )
    )


def load_attempt(attempt_id: int) -> Attempt | None:
    """One attempt loaded whole, or ``None``; no query when this request already has it."""
    known = db.session.identity_map.get(identity_key(Attempt, attempt_id))
    if known is not None and _loaded_whole(known):
        # Already loaded whole in this request (the submit view reads it first): loading it
        # again sent the same queries a second time, inside the write transaction.
        return known
    found = load_whole([attempt_id])
    return found[0] if found else None


def _loaded_whole(attempt: Attempt) -> bool:
    """True when everything ``load_whole`` loads is loaded (many of these relations refuse
    to load lazily)."""
    if inspect(attempt).unloaded & {"answers", "questions", "quiz"}:
        return False
    quiz = attempt.quiz
    if "module" in inspect(quiz).unloaded or "course" in inspect(quiz.module).unloaded:
        return False
    return all(
        "question" not in inspect(item).unloaded
        and "choices" not in inspect(item.question).unloaded
        for item in attempt.questions
    )


def get_attempt_for(actor: User, attempt_id: int) -> Attempt:
    """An attempt, loaded whole, its student (or an admin) may see; ``NotFound`` for anyone
    else."""
    attempt = load_attempt(attempt_id)
    if attempt is None or not (actor.is_admin or attempt.student_id == actor.id):
        raise NotFound("There is no such attempt.")
    return attempt


def own_attempt(student: User, attempt_id: int) -> Attempt:
    """The student's own attempt, loaded whole; ``NotFound`` for anyone else's."""
    attempt = load_attempt(attempt_id)
    if attempt is None or attempt.student_id != student.id:
        raise NotFound("There is no such attempt.")
    return attempt


def attempts_at(student_id: int, quiz_id: int) -> list[Attempt]:
    """A student's attempts at a quiz (bare rows), oldest first, in one query."""
    return list(
        db.session.scalars(
            select(Attempt)
            .where(Attempt.student_id == student_id, Attempt.quiz_id == quiz_id)
            .order_by(Attempt.started_at, Attempt.id)
        )
    )
