"""Content import: a course with its modules, lessons, question bank and quizzes from plain
data, in the shape of the demo content files (``lms/demo/content/*.toml``)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from lms.courses.codesets import keys
from lms.courses.models import (
    Choice,
    Course,
    Lesson,
    Module,
    Question,
    QuestionBank,
    QuestionKind,
    Quiz,
    QuizItem,
    ReviewPolicy,
)
from lms.courses.rules import code_entry
from lms.errors import InvalidInput, Problem
from lms.extensions import db


def create_course(data: Mapping) -> Course:
    """Create a course with its modules, lessons, question bank and quizzes. A module's quiz
    is its fixed list of questions, or a ``blueprint`` drawn from the course's bank (which
    also takes the course's ``bank`` questions); ``time_limit_minutes``, ``max_attempts``,
    ``review_policy`` are optional."""
    course = Course(
        code=data["code"],
        title=data["title"],
        topic_area=data["topic_area"],
        description=data.get("description", ""),
        sequential=bool(data.get("sequential", False)),
    )
    bank = QuestionBank(name=f"{data['code']}: {data['title']}")
    db.session.add_all([course, bank])
    db.session.flush()
    for question_data in data.get("bank", []):
        add_question(bank, question_data)
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
        if module_data.get("lesson"):
            db.session.add(
                Lesson(
                    module_id=module.id,
                    title=module_data["title"],
                    body_markdown=module_data["lesson"],
                )
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
    db.session.flush()
    return course


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
