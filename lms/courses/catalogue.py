"""The catalogue: courses, their modules and lessons, and a course's sequential setting."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.auth.models import User
from lms.courses.models import Course, Module, Question, Quiz, QuizItem
from lms.errors import NotFound, PermissionDenied
from lms.extensions import db
from lms.ledger.audit import record_event


def require_staff(actor: User, message: str) -> None:
    """Refuse (403) anyone but an instructor or an admin, saying ``message``."""
    if not (actor.is_instructor or actor.is_admin):
        raise PermissionDenied(message)


def require_author(actor: User, what: str) -> None:
    """Refuse (403) anyone who is not an author of course content: an admin, or an instructor
    an admin named an author. ``what`` says what was refused, as "change a quiz"."""
    if not actor.is_author:
        raise PermissionDenied(
            f"Only the school's content authors {what}: ask an admin to name you an author."
        )


def list_courses(*, include_archived: bool = False) -> list[Course]:
    """Every course (archived ones too if asked) with the modules students see, in two
    queries."""
    query = select(Course).options(selectinload(Course.modules)).order_by(Course.title)
    if not include_archived:
        query = query.where(Course.archived_at.is_(None))
    return list(db.session.scalars(query))


def get_course(course_id: int) -> Course:
    """A course, or ``NotFound``."""
    course = db.session.get(Course, course_id)
    if course is None:
        raise NotFound("There is no such course.")
    return course


def get_module(module_id: int, questions: bool = True) -> Module:
    """A module with its course, lesson and quiz, or ``NotFound``; the quiz's questions and
    their choices too unless ``questions`` is false (the module page only counts them)."""
    items = selectinload(Module.quiz).selectinload(Quiz.items)
    if questions:
        items = items.selectinload(QuizItem.question).selectinload(Question.choices)
    module = db.session.scalar(
        select(Module)
        .where(Module.id == module_id)
        .options(
            selectinload(Module.course).selectinload(Course.modules),
            selectinload(Module.lesson),
            items,
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


def courses_by_code(codes: Iterable[str]) -> dict[str, Course]:
    """The courses with the given codes, keyed by code, in one query."""
    codes = list(codes)
    if not codes:
        return {}
    return {c.code: c for c in db.session.scalars(select(Course).where(Course.code.in_(codes)))}


def module_codes_of_courses(codes: Iterable[str]) -> dict[str, tuple[str, dict[int, str]]]:
    """For each course code: its title and {module id: module code}, in one query."""
    codes = list(codes)
    if not codes:
        return {}
    result: dict[str, tuple[str, dict[int, str]]] = {}
    rows = db.session.execute(
        select(Course.code, Course.title, Module.id, Module.code)
        .outerjoin(Module, Module.course_id == Course.id)
        .where(Course.code.in_(codes))
        .order_by(Course.code, Module.position)
    )
    for course_code, title, module_id, module_code in rows:
        _, members = result.setdefault(course_code, (title, {}))
        if module_id is not None:
            members[module_id] = module_code
    return result


def set_sequential(actor: User, course_id: int, sequential: bool, now: datetime) -> Course:
    """Turn sequential gating of a course on or off (content authors)."""
    require_author(actor, "change a course")
    course = get_course(course_id)
    if course.sequential != sequential:
        course.sequential = sequential
        record_event(
            "course.sequential_changed",
            actor=actor,
            now=now,
            target_type="course",
            target_id=course.id,
            details={"sequential": sequential},
        )
    db.session.flush()
    return course
