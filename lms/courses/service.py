"""Use cases for course content and quiz attempts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from lms.auth.models import User
from lms.courses import rules
from lms.courses.models import (
    Attempt,
    AttemptAnswer,
    AttemptStatus,
    Choice,
    Course,
    Lesson,
    Module,
    Question,
    QuestionBank,
    Quiz,
    QuizItem,
)
from lms.errors import InvalidInput, NotFound, PermissionDenied
from lms.extensions import db
from lms.records import service as ledger
from lms.records.models import LedgerKind


def list_courses() -> list[Course]:
    """Every course with its modules, in two queries."""
    return list(
        db.session.scalars(
            select(Course).options(selectinload(Course.modules)).order_by(Course.title)
        )
    )


def get_module(module_id: int) -> Module:
    """A module with its course, lesson and quiz questions, or ``NotFound``."""
    module = db.session.scalar(
        select(Module)
        .where(Module.id == module_id)
        .options(
            selectinload(Module.course).selectinload(Course.modules),
            selectinload(Module.lesson),
            selectinload(Module.quiz)
            .selectinload(Quiz.items)
            .selectinload(QuizItem.question)
            .selectinload(Question.choices),
        )
    )
    if module is None:
        raise NotFound("There is no such module.")
    return module


def modules_by_code(codes: Iterable[str]) -> dict[str, Module]:
    """The modules with the given codes, keyed by code, in one query."""
    codes = list(codes)
    if not codes:
        return {}
    modules = db.session.scalars(select(Module).where(Module.code.in_(codes)))
    return {module.code: module for module in modules}


def answer_keys(quiz: Quiz) -> list[rules.QuestionKey]:
    """The grader's view of a loaded quiz."""
    return [
        rules.QuestionKey(
            question_id=item.question.id,
            choice_ids=frozenset(choice.id for choice in item.question.choices),
            correct_ids=frozenset(c.id for c in item.question.choices if c.is_correct),
        )
        for item in quiz.items
    ]


def submit_quiz(
    student: User, module_id: int, answers: Mapping[int, frozenset[int]], now: datetime
) -> Attempt:
    """Grade a student's answers to a module's quiz; a pass is recorded in the ledger."""
    if not student.is_student:
        raise PermissionDenied("Only students take quizzes.")
    module = get_module(module_id)
    if module.quiz is None:
        raise NotFound("This module has no quiz.")
    try:
        result = rules.grade(answer_keys(module.quiz), answers, module.quiz.passing_score)
    except rules.AnswerError as error:
        raise InvalidInput(
            "These answers do not belong to this quiz: " + "; ".join(error.problems) + "."
        ) from error

    attempt = Attempt(
        quiz_id=module.quiz.id,
        student_id=student.id,
        status=AttemptStatus.SUBMITTED,
        started_at=now,
        submitted_at=now,
        score=result.score,
        passed=result.passed,
    )
    db.session.add(attempt)
    db.session.flush()
    db.session.add_all(
        AttemptAnswer(
            attempt_id=attempt.id,
            question_id=item.question_id,
            choice_id=next(iter(item.chosen_ids), None),
            is_correct=item.is_correct,
        )
        for item in result.results
    )
    if result.passed:
        ledger.append_entry(
            student=student,
            kind=LedgerKind.MODULE_COMPLETED,
            module_id=module.id,
            score=result.score,
            source="quiz",
            source_ref=f"attempt:{attempt.id}",
            actor=student,
            now=now,
        )
    db.session.flush()
    return attempt


def get_attempt_for(actor: User, attempt_id: int) -> Attempt:
    """An attempt its student (or an admin) may see; ``NotFound`` for anyone else."""
    attempt = db.session.scalar(
        select(Attempt)
        .where(Attempt.id == attempt_id)
        .options(
            selectinload(Attempt.answers),
            selectinload(Attempt.quiz).selectinload(Quiz.module),
            selectinload(Attempt.quiz)
            .selectinload(Quiz.items)
            .selectinload(QuizItem.question)
            .selectinload(Question.choices),
        )
    )
    if attempt is None or not (actor.is_admin or attempt.student_id == actor.id):
        raise NotFound("There is no such attempt.")
    return attempt


def best_attempt_scores(
    student_ids: Iterable[int], module_ids: Iterable[int]
) -> list[tuple[int, int, float]]:
    """(student, module, best score) for every submitted attempt, in one query."""
    student_ids, module_ids = list(student_ids), list(module_ids)
    if not student_ids or not module_ids:
        return []
    rows = db.session.execute(
        select(Attempt.student_id, Quiz.module_id, func.max(Attempt.score))
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .where(
            Attempt.status == AttemptStatus.SUBMITTED,
            Attempt.student_id.in_(student_ids),
            Quiz.module_id.in_(module_ids),
        )
        .group_by(Attempt.student_id, Quiz.module_id)
    )
    return [(student_id, module_id, float(score)) for student_id, module_id, score in rows]


def create_course(data: Mapping) -> Course:
    """Create a course with its modules, lessons, question bank and quizzes from plain data
    (the shape of the demo content files)."""
    course = Course(
        code=data["code"],
        title=data["title"],
        topic_area=data["topic_area"],
        description=data.get("description", ""),
    )
    bank = QuestionBank(name=f"{data['code']}: {data['title']}")
    db.session.add_all([course, bank])
    db.session.flush()
    for position, module_data in enumerate(data["modules"], start=1):
        module = Module(
            course_id=course.id,
            code=module_data["code"],
            position=position,
            title=module_data["title"],
            estimated_minutes=module_data.get("estimated_minutes", 30),
        )
        db.session.add(module)
        db.session.flush()
        db.session.add(
            Lesson(
                module_id=module.id, title=module_data["title"], body_markdown=module_data["lesson"]
            )
        )
        quiz = Quiz(
            module_id=module.id,
            title=f"Quiz: {module_data['title']}",
            passing_score=module_data.get("passing_score", 70),
        )
        db.session.add(quiz)
        db.session.flush()
        for item_position, question_data in enumerate(module_data["questions"], start=1):
            question = Question(
                bank_id=bank.id,
                stem=question_data["stem"],
                rationale=question_data.get("rationale", ""),
                tags=", ".join(question_data.get("tags", [])),
            )
            db.session.add(question)
            db.session.flush()
            correct = question_data["correct"]
            correct_positions = set(correct) if isinstance(correct, list) else {correct}
            db.session.add_all(
                Choice(
                    question_id=question.id,
                    position=index,
                    text=text,
                    is_correct=index in correct_positions,
                )
                for index, text in enumerate(question_data["choices"])
            )
            db.session.add(
                QuizItem(quiz_id=quiz.id, question_id=question.id, position=item_position)
            )
    db.session.flush()
    return course


def attempt_activity(
    student_ids: Iterable[int], module_ids: Iterable[int]
) -> list[tuple[int, int, int, datetime]]:
    """(student, module, failed attempts, last submission) per pair, in one query."""
    student_ids, module_ids = list(student_ids), list(module_ids)
    if not student_ids or not module_ids:
        return []
    rows = db.session.execute(
        select(
            Attempt.student_id,
            Quiz.module_id,
            func.sum(case((Attempt.passed.is_(False), 1), else_=0)),
            func.max(Attempt.submitted_at),
        )
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .where(
            Attempt.status == AttemptStatus.SUBMITTED,
            Attempt.student_id.in_(student_ids),
            Quiz.module_id.in_(module_ids),
        )
        .group_by(Attempt.student_id, Quiz.module_id)
    )
    return [
        (student_id, module_id, int(failed or 0), _as_datetime(last))
        for student_id, module_id, failed, last in rows
    ]


def _as_datetime(value: datetime | str) -> datetime:
    # Aggregates bypass the column type, so SQLite hands back naive text here.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
