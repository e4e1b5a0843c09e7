"""Content import: a course with its modules, lessons, question bank and quizzes from plain
data, in the shape of the demo content files (``lms/demo/content/*.toml``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from lms.auth.models import User
from lms.courses.authoring import service as authoring
from lms.courses.codesets import keys
from lms.courses.media.service import store_media
from lms.courses.models import (
    Choice,
    Course,
    Question,
    QuestionBank,
    QuestionKind,
    Quiz,
    QuizItem,
    ReviewPolicy,
)
from lms.courses.rules import authoring as rules
from lms.courses.rules import code_entry
from lms.db import utcnow
from lms.errors import InvalidInput, Problem
from lms.extensions import db


def create_course(
    data: Mapping,
    now: datetime | None = None,
    *,
    media: Mapping[str, bytes] | None = None,
    actor: User | None = None,
) -> Course:
    """Create a course with its modules, lessons, question bank and quizzes, through the
    authoring service as an author would (``lms.courses.authoring``): each module is added
    with its lesson as a draft, then published as version 1 when its lesson may be published
    (a lesson that may not, such as one with an image without alt text, stays a draft for an
    author to finish). A module's quiz is its fixed list of questions, or a ``blueprint``
    drawn from the course's bank (which also takes the course's ``bank`` questions);
    ``time_limit_minutes``, ``max_attempts``, ``review_policy`` are optional. ``media`` (file
    name to bytes) is stored before any lesson is published, so the lessons may show it."""
    now = now or utcnow()
    course = authoring.create_course(
        None,
        rules.CourseFields(
            code=data["code"],
            title=data["title"],
            topic_area=data["topic_area"],
            description=data.get("description", ""),
        ),
        now,
        sequential=bool(data.get("sequential", False)),
    )
    for name, body in sorted((media or {}).items()):
        store_media(course, name, body, actor, now)
    bank = QuestionBank(name=f"{data['code']}: {data['title']}")
    db.session.add(bank)
    db.session.flush()
    for question_data in data.get("bank", []):
        add_question(bank, question_data)
    for module_data in data["modules"]:
        module = authoring.add_module(
            None,
            course.id,
            rules.ModuleFields(
                code=module_data["code"],
                title=module_data["title"],
                estimated_minutes=module_data.get("estimated_minutes", 30),
            ),
            now,
            lesson_markdown=module_data.get("lesson") or "",
        )
        quiz = Quiz(
            module_id=module.id,
            title=module_data.get("quiz_title", f"Quiz: {module_data['title']}"),
            passing_score=module_data.get("passing_score", 70),
            bank_id=bank.id,
            blueprint=json.dumps(module_data["blueprint"]) if module_data.get("blueprint") else "",
            time_limit_minutes=module_data.get("time_limit_minutes"),
            max_attempts=module_data.get("max_attempts"),
            review_policy=ReviewPolicy(module_data.get("review_policy", "after_attempt")),
            preset=module_data.get("preset"),
        )
        db.session.add(quiz)
        db.session.flush()
        for item_position, question_data in enumerate(module_data.get("questions", []), start=1):
            question = add_question(bank, question_data)
            db.session.add(
                QuizItem(quiz_id=quiz.id, question_id=question.id, position=item_position)
            )
        draft = authoring.draft_of(module)
        if not authoring.publication_problems(module, draft):
            authoring.publish(None, module.id, module_data.get("version_note", IMPORTED), now)
    db.session.flush()
    return course


IMPORTED = "First version, loaded from the course's content file."


def add_question(bank: QuestionBank, data: Mapping) -> Question:
    """A question of the content data in a bank: ``correct`` is a choice's position, or a
    list of them for a multiple-answer question; a ``code_entry`` question has a ``case`` and
    ``boxes`` instead (docs/codes.md)."""
    if data.get("kind") == QuestionKind.CODE_ENTRY.value:
        return add_code_entry_question(bank, data)
    correct = data["correct"]
    correct_positions = set(correct) if isinstance(correct, list) else {correct}
    kind = data.get("kind") or ("multiple" if isinstance(correct, list) else "single")
    question = Question(
        bank_id=bank.id,
        stem=data["stem"],
        rationale=data.get("rationale", ""),
        tags=list(data.get("tags", [])),
        kind=QuestionKind(kind),
        content_area=data.get("content_area", ""),
        difficulty=data.get("difficulty", ""),
        code_set_year=data.get("code_set_year"),
        version=1,
    )
    db.session.add(question)
    db.session.flush()
    question.family_id = question.id
    db.session.add_all(
        Choice(
            question_id=question.id,
            position=index,
            text=text,
            is_correct=index in correct_positions,
        )
        for index, text in enumerate(data["choices"])
    )
    return question


def add_code_entry_question(bank: QuestionBank, data: Mapping) -> Question:
    """A code-entry question of the content data: its case and answer boxes, the key checked
    against the code sets (an ICD-10-CM code that does not exist or is not billable is
    refused with every problem named)."""
    boxes, problems = keys.checked_boxes(data.get("boxes") or [])
    problems = keys.case_problems(data.get("case", "")) + problems
    if not str(data.get("stem", "")).strip():
        problems.insert(0, Problem("The question has no text.", "stem"))
    if problems:
        raise InvalidInput(problems=problems)
    question = Question(
        bank_id=bank.id,
        stem=data["stem"],
        rationale=data.get("rationale", ""),
        tags=list(data.get("tags", [])),
        kind=QuestionKind.CODE_ENTRY,
        content_area=data.get("content_area", ""),
        difficulty=data.get("difficulty", ""),
        code_set_year=data.get("code_set_year"),
        case_text=data["case"],
        code_boxes=[code_entry.stored_box(box) for box in boxes],
        code_release=keys.release_of(boxes),
        version=1,
    )
    db.session.add(question)
    db.session.flush()
    question.family_id = question.id
    return question
