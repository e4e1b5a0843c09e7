"""A course read back as content data, as its students see it: modules in order, each
lesson's Markdown, quiz settings and questions, and the bank the blueprints draw from."""

from __future__ import annotations

import json

from sqlalchemy import select

from lms.courses.models import (
    Choice,
    Course,
    Lesson,
    Module,
    Question,
    QuestionKind,
    Quiz,
    QuizItem,
)
from lms.errors import NotFound
from lms.extensions import db

MOODLE_KINDS = ("single", "multiple", "true_false")


def question_data(question: Question, choices: list[Choice]) -> dict:
    """A stored question in the content data shape (docs/courses.md): a choice question with
    its choices and key, a code-entry question with its case and keyed boxes."""
    kind = question.kind.value
    if question.kind is QuestionKind.CODE_ENTRY:
        answer = {
            "case": question.case_text or "",
            "boxes": [dict(box) for box in question.code_boxes or []],
        }
    elif kind in MOODLE_KINDS:
        right = [choice.position for choice in choices if choice.is_correct]
        answer = {
            "choices": [choice.text for choice in choices],
            "correct": right if kind == "multiple" else (right[0] if right else 0),
        }
    else:
        raise NotFound(f"A question of kind {kind} cannot be exported (question {question.id}).")
    data = {
        "stem": question.stem,
        "kind": kind,
        **answer,
        "rationale": question.rationale,
        "content_area": question.content_area,
        "difficulty": question.difficulty,
        "tags": list(question.tags or []),
    }
    if question.code_set_year:
        data["code_set_year"] = question.code_set_year
    return data


def _questions(ids: list[int]) -> dict[int, dict]:
    if not ids:
        return {}
    questions = db.session.scalars(select(Question).where(Question.id.in_(ids))).all()
    choices: dict[int, list[Choice]] = {}
    for choice in db.session.scalars(
        select(Choice).where(Choice.question_id.in_(ids)).order_by(Choice.position)
    ):
        choices.setdefault(choice.question_id, []).append(choice)
    return {q.id: question_data(q, choices.get(q.id, [])) for q in questions}


def course_content(code: str) -> tuple[dict, dict[str, bytes]]:
    """The content data of the course with this code, and its media files (filename ->
    bytes; empty until the media store is part of the app)."""
    course = db.session.scalar(select(Course).where(Course.code == code))
    if course is None:
        raise NotFound(f"No course has the code {code}.")
    modules = db.session.scalars(
        select(Module).where(Module.course_id == course.id).order_by(Module.position)
    ).all()
    module_ids = [module.id for module in modules]
    lessons = {
        lesson.module_id: lesson
        for lesson in db.session.scalars(select(Lesson).where(Lesson.module_id.in_(module_ids)))
    }
    quizzes = {
        quiz.module_id: quiz
        for quiz in db.session.scalars(select(Quiz).where(Quiz.module_id.in_(module_ids)))
    }
    items: dict[int, list[int]] = {}
    for item in db.session.scalars(
        select(QuizItem)
        .where(QuizItem.quiz_id.in_([quiz.id for quiz in quizzes.values()]))
        .order_by(QuizItem.quiz_id, QuizItem.position)
    ):
        items.setdefault(item.quiz_id, []).append(item.question_id)
    used = {qid for ids in items.values() for qid in ids}
    bank_ids = {quiz.bank_id for quiz in quizzes.values() if quiz.bank_id is not None}
    bank_only = [
        qid
        for qid in db.session.scalars(
            select(Question.id)
            .where(Question.bank_id.in_(bank_ids), Question.retired_at.is_(None))
            .order_by(Question.id)
        )
        if qid not in used
    ]
    questions = _questions(sorted(used) + bank_only)
    data: dict = {
        "code": course.code,
        "title": course.title,
        "topic_area": course.topic_area,
        "description": course.description or "",
        "sequential": bool(course.sequential),
        "bank": [questions[qid] for qid in bank_only],
        "modules": [],
    }
    for module in modules:
        entry: dict = {
            "code": module.code,
            "title": module.title,
            "estimated_minutes": module.estimated_minutes,
        }
        lesson = lessons.get(module.id)
        if lesson is not None:
            entry["lesson"] = lesson.body_markdown
        quiz = quizzes.get(module.id)
        if quiz is not None:
            entry.update(
                quiz_title=quiz.title,
                passing_score=quiz.passing_score,
                blueprint=json.loads(quiz.blueprint) if quiz.blueprint else None,
                time_limit_minutes=quiz.time_limit_minutes,
                max_attempts=quiz.max_attempts,
                review_policy=quiz.review_policy.value,
                preset=quiz.preset,
                questions=[questions[qid] for qid in items.get(quiz.id, [])],
            )
        data["modules"].append(entry)
    return data, _media(course)


def never_published(code: str) -> set[str]:
    """The codes of the course's modules that were never published (drafts)."""
    return set(
        db.session.scalars(
            select(Module.code)
            .join(Course, Course.id == Module.course_id)
            .where(Course.code == code, Module.published_version.is_(None))
        )
    )


def media_store_available() -> bool:
    """Whether the media store (``lms.courses.media``) is part of this build."""
    try:
        from lms.courses.media import service  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


def _media(course: Course) -> dict[str, bytes]:
    try:
        from lms.courses.media import service as media_service  # noqa: PLC0415
    except ImportError:  # the media store is not part of this build
        return {}
    return {
        item.filename: media_service.read_media(item) for item in media_service.list_media(course)
    }
