"""Time on task: the server credits heartbeats from a student's open lesson; the sums are the
contact hours a dashboard shows and a ``contact_hours`` requirement reads."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select

from lms.auth.models import User
from lms.courses.models import Course, Module, TimeOnTask
from lms.courses.rules import timing
from lms.db import among
from lms.errors import NotFound, PermissionDenied
from lms.extensions import db
from lms.ledger.service import facts_changed


def record_heartbeat(student: User, module_id: int, now: datetime) -> int:
    """Credit time on task for a student reading a module; returns the module's seconds."""
    if not student.is_student:
        raise PermissionDenied("Only students' time is counted.")
    module = db.session.get(Module, module_id)
    if module is None:
        raise NotFound("There is no such module.")
    row = db.session.scalar(
        select(TimeOnTask).where(
            TimeOnTask.student_id == student.id, TimeOnTask.module_id == module_id
        )
    )
    if row is None:
        row = TimeOnTask(
            student_id=student.id,
            module_id=module_id,
            course_id=module.course_id,
            seconds=0,
            last_beat_at=now,
        )
        db.session.add(row)
    else:
        row.seconds += timing.heartbeat_credit(row.last_beat_at, now)
        row.last_beat_at = max(row.last_beat_at, now)
    db.session.flush()
    facts_changed.send(None, student_ids=[student.id], now=now)
    return row.seconds


def _hours(seconds: int | None) -> float:
    return round((seconds or 0) / 3600, 2)


def contact_hours_by_student(
    student_ids: Iterable[int], course_ids: Iterable[int] | None = None
) -> dict[int, float]:
    """Hours of measured time on task per student (in the given courses), in one query;
    every student asked for is in the result (0.0 when nothing was measured)."""
    student_ids = list(student_ids)
    result = dict.fromkeys(student_ids, 0.0)
    if not student_ids:
        return result
    query = (
        select(TimeOnTask.student_id, func.sum(TimeOnTask.seconds))
        .where(among(TimeOnTask.student_id, student_ids))
        .group_by(TimeOnTask.student_id)
    )
    if course_ids is not None:
        query = query.where(TimeOnTask.course_id.in_(list(course_ids)))
    for student_id, seconds in db.session.execute(query):
        result[student_id] = _hours(seconds)
    return result


def contact_hours_facts(
    student_ids: Iterable[int], courses: Iterable[str] | None = None
) -> dict[int, dict[str | None, float]]:
    """Per student: hours in every course (key ``None``) and per course code, in one query;
    the readiness engine's ``contact_hours`` fact. ``courses`` limits the per-course figures
    to those codes (none: only the total, a lighter query); ``None`` gives every course."""
    student_ids = list(student_ids)
    wanted = None if courses is None else set(courses)
    if wanted is not None and not wanted:
        totals = contact_hours_by_student(student_ids)
        return {sid: {None: hours} for sid, hours in totals.items()}
    facts: dict[int, dict[str | None, float]] = {sid: {None: 0.0} for sid in student_ids}
    if not student_ids:
        return facts
    rows = db.session.execute(
        select(TimeOnTask.student_id, Course.code, func.sum(TimeOnTask.seconds))
        .join(Course, Course.id == TimeOnTask.course_id)
        .where(among(TimeOnTask.student_id, student_ids))
        .group_by(TimeOnTask.student_id, Course.code)
    )
    seconds_of = dict.fromkeys(student_ids, 0)
    for student_id, code, seconds in rows:
        if wanted is None or code in wanted:
            facts[student_id][code] = _hours(seconds)
        seconds_of[student_id] += seconds or 0
    for student_id, seconds in seconds_of.items():
        facts[student_id][None] = _hours(seconds)
    return facts


def contact_hours_by_course(student_id: int) -> dict[int, float]:
    """A student's hours of time on task per course id, in one query."""
    rows = db.session.execute(
        select(TimeOnTask.course_id, func.sum(TimeOnTask.seconds))
        .where(TimeOnTask.student_id == student_id)
        .group_by(TimeOnTask.course_id)
    )
    return {course_id: _hours(seconds) for course_id, seconds in rows}
