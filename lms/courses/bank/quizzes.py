"""A quiz's settings (time, attempts, review policy, exam preset, blueprint over a bank) and
practice-exam modules (a module holding only a quiz)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.auth.models import User
from lms.courses import blueprints
from lms.courses.authoring import service as authoring
from lms.courses.bank import EDIT_BANKS
from lms.courses.bank.questions import get_bank
from lms.courses.catalogue import get_course, require_author
from lms.courses.models import Module, Quiz, QuizItem, ReviewPolicy
from lms.courses.rules import quizzes
from lms.courses.rules.authoring import ModuleFields
from lms.errors import InvalidInput, NotFound
from lms.extensions import db
from lms.ledger.audit import record_event


def get_quiz(quiz_id: int) -> Quiz:
    """A quiz with its module and items, or ``NotFound``."""
    quiz = db.session.scalar(
        select(Quiz)
        .where(Quiz.id == quiz_id)
        .options(
            selectinload(Quiz.module), selectinload(Quiz.items).selectinload(QuizItem.question)
        )
    )
    if quiz is None:
        raise NotFound("There is no such quiz.")
    return quiz


def update_quiz(actor: User, quiz_id: int, settings: quizzes.QuizSettings, now: datetime) -> Quiz:
    """Change a quiz's settings (open book or not among them); a preset sets the time and the
    passing score and requires the blueprint to draw its number of questions; the bank must
    be able to fill it. Every problem refuses the change (400), each on its field."""
    require_author(actor, EDIT_BANKS)
    quiz = get_quiz(quiz_id)
    pool = None  # the bank's questions, read only for a blueprint to check
    if settings.bank_id is not None and settings.blueprint.strip():
        pool = blueprints.bank_pool(get_bank(settings.bank_id).id)
    settled = quizzes.settle_quiz(settings, pool)
    if settled.problems:
        raise InvalidInput(problems=settled.problems)
    before = _settings_of(quiz)
    quiz.passing_score = settled.passing_score
    quiz.time_limit_minutes = settled.time_limit_minutes
    quiz.max_attempts = settings.max_attempts
    quiz.review_policy = ReviewPolicy(settings.review_policy)
    quiz.preset = settings.preset or None
    quiz.bank_id = settings.bank_id if settled.blueprint else quiz.bank_id
    quiz.blueprint = blueprints.stored_blueprint(settled.blueprint)
    quiz.open_book = settings.open_book
    db.session.flush()
    after = _settings_of(quiz)
    changed = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    if changed:
        record_event(
            "quiz.settings_changed",
            actor=actor,
            now=now,
            target_type="quiz",
            target_id=quiz.id,
            details={"changed": changed},
        )
    return quiz


def _settings_of(quiz: Quiz) -> dict[str, object]:
    """What the audit log keeps of a quiz's settings, to say what changed from what."""
    return {
        "passing_score": quiz.passing_score,
        "time_limit_minutes": quiz.time_limit_minutes,
        "max_attempts": quiz.max_attempts,
        "review_policy": quiz.review_policy.value,
        "preset": quiz.preset,
        "bank_id": quiz.bank_id,
        "blueprint": quiz.blueprint,
        "open_book": quiz.open_book,
    }


def add_exam_module(actor: User, course_id: int, code: str, title: str, now: datetime) -> Quiz:
    """Add a module holding only a quiz (a practice exam) at the end of a course; its
    questions are then set in the quiz settings (a blueprint over a bank)."""
    require_author(actor, EDIT_BANKS)
    course = get_course(course_id)
    code, title = code.strip().upper(), title.strip()
    taken = db.session.scalar(select(Module.id).where(Module.code == code)) is not None
    problems = quizzes.exam_module_problems(code, title, taken)
    if problems:
        raise InvalidInput(problems=problems)
    module = authoring.add_module(
        actor, course.id, ModuleFields(code=code, title=title[:200], estimated_minutes=60), now
    )
    quiz = Quiz(module_id=module.id, title=title[:200], passing_score=70)
    db.session.add(quiz)
    db.session.flush()
    # A practice exam has no lesson to write: students see it at once (its questions are set
    # in the quiz settings next; until then it says it has none).
    authoring.publish(actor, module.id, "A practice exam, added from the question bank.", now)
    return quiz
