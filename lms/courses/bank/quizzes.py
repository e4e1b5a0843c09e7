"""A quiz's settings (time, attempts, review policy, exam preset, blueprint over a bank) and
practice-exam modules (a module holding only a quiz)."""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.auth.models import User
from lms.courses import blueprints
from lms.courses.authoring import service as authoring
from lms.courses.bank import EDIT_BANKS
from lms.courses.bank.questions import get_bank
from lms.courses.catalogue import get_course, require_author
from lms.courses.models import Module, Question, Quiz, QuizItem, ReviewPolicy
from lms.courses.rules import drawing, quizzes
from lms.courses.rules.authoring import ModuleFields
from lms.errors import Conflict, InvalidInput, NotFound, Problem
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


# --- the quiz builder (issue 16 item 5): a module's quiz and its questions picked by hand ----


def quiz_of_module(module_id: int) -> Quiz | None:
    """The module's quiz with its items and their questions, or None."""
    return db.session.scalar(
        select(Quiz)
        .where(Quiz.module_id == module_id)
        .options(selectinload(Quiz.items).selectinload(QuizItem.question))
    )


def create_quiz(
    actor: User, module_id: int, title: str, bank_id: int, passing_score: int, now: datetime
) -> Quiz:
    """Give a module its quiz (a module holds at most one), drawing on ``bank_id``; its
    questions are then picked by hand or drawn by a blueprint in the settings."""
    require_author(actor, EDIT_BANKS)
    module = db.session.get(Module, module_id)
    if module is None:
        raise NotFound("There is no such module.")
    if quiz_of_module(module_id) is not None:
        raise Conflict(f"{module.title} has its quiz already.")
    problems = []
    title = title.strip()
    if not title or len(title) > 200:
        problems.append(Problem("Give the quiz a title of at most 200 characters.", "title"))
    if not 0 <= passing_score <= 100:
        problems.append(Problem("Give a passing score from 0 to 100.", "passing_score"))
    if problems:
        raise InvalidInput(problems=problems)
    bank = get_bank(bank_id)
    quiz = Quiz(module_id=module.id, title=title, passing_score=passing_score, bank_id=bank.id)
    db.session.add(quiz)
    db.session.flush()
    record_event(
        "quiz.created",
        actor=actor,
        now=now,
        target_type="quiz",
        target_id=quiz.id,
        details={"module": module.code, "bank_id": bank.id, "passing_score": passing_score},
    )
    return quiz


def add_questions(actor: User, quiz_id: int, question_ids: list[int], now: datetime) -> int:
    """Add live questions to a quiz's fixed list, after those it has; a question already in
    it, retired or unknown is refused with the rest (nothing added). Returns how many."""
    require_author(actor, EDIT_BANKS)
    quiz = get_quiz(quiz_id)
    if blueprints.blueprint_rows(quiz):
        raise Conflict(
            "This quiz draws its questions by its blueprint: empty the blueprint in the quiz "
            "settings to pick questions by hand.",
            field="question",
        )
    wanted = list(dict.fromkeys(question_ids))
    if not wanted:
        raise InvalidInput("Tick the questions to add.", field="question")
    live = set(
        db.session.scalars(
            select(Question.id).where(Question.id.in_(wanted), Question.retired_at.is_(None))
        )
    )
    present = {item.question_id for item in quiz.items}
    problems = [
        Problem(f"Question {qid} is not a live question of any bank.", "question")
        for qid in wanted
        if qid not in live
    ] + [
        Problem(f"Question {qid} is in the quiz already.", "question")
        for qid in wanted
        if qid in present
    ]
    if problems:
        raise InvalidInput(problems=problems)
    position = max((item.position for item in quiz.items), default=0)
    for offset, qid in enumerate(wanted, start=1):
        db.session.add(QuizItem(quiz_id=quiz.id, question_id=qid, position=position + offset))
    db.session.flush()
    record_event(
        "quiz.questions_added",
        actor=actor,
        now=now,
        target_type="quiz",
        target_id=quiz.id,
        details={"question_ids": wanted},
    )
    return len(wanted)


def remove_question(actor: User, quiz_id: int, question_id: int, now: datetime) -> None:
    """Take a question out of a quiz's fixed list (it stays in its bank; attempts that drew
    it keep it)."""
    require_author(actor, EDIT_BANKS)
    quiz = get_quiz(quiz_id)
    item = next((i for i in quiz.items if i.question_id == question_id), None)
    if item is None:
        raise NotFound("The question is not in this quiz.")
    db.session.delete(item)
    db.session.flush()
    record_event(
        "quiz.question_removed",
        actor=actor,
        now=now,
        target_type="quiz",
        target_id=quiz.id,
        details={"question_id": question_id},
    )


def candidate_questions(bank_id: int, text: str = "", label: str = "", limit: int = 200):
    """A bank's live questions whose stem holds ``text`` and whose content area or tags hold
    ``label``, oldest first, at most ``limit`` (with whether more matched)."""
    query = (
        select(Question)
        .where(Question.bank_id == bank_id, Question.retired_at.is_(None))
        .order_by(Question.id)
    )
    if text.strip():
        query = query.where(Question.stem.ilike(f"%{text.strip()}%"))
    found = list(db.session.scalars(query))
    if label.strip():
        wanted = label.strip().lower()
        found = [
            q
            for q in found
            if wanted == q.content_area.lower() or wanted in (t.lower() for t in q.tags or [])
        ]
    return found[:limit], len(found) > limit


def preview_question_ids(quiz: Quiz, seed: int) -> list[int]:
    """The questions a student could get: the fixed list, or one draw of the blueprint."""
    rows = blueprints.blueprint_rows(quiz)
    if not rows:
        return [item.question_id for item in sorted(quiz.items, key=lambda i: i.position)]
    try:
        return drawing.draw_questions(
            rows,
            blueprints.bank_pool(quiz.bank_id),
            random.Random(seed),  # noqa: S311 - a sample, not a secret  # nosec B311
        )
    except drawing.DrawError as error:
        raise Conflict(
            problems=[Problem("The blueprint cannot be drawn from its bank.")]
            + [Problem(short) for short in error.problems]
        ) from error


def load_questions(question_ids: list[int]) -> list[Question]:
    """The questions with these ids and their choices, in two queries."""
    if not question_ids:
        return []
    return list(
        db.session.scalars(
            select(Question)
            .where(Question.id.in_(question_ids))
            .options(selectinload(Question.choices))
        )
    )
