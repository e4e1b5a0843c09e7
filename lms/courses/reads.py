"""What the domains above read of courses (credentials, enrollment, reports, api, lti): the
one module they import. Scores of attempts are read here; the catalogue's and time on task's
reads are published from their modules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Float, case, cast, func, select

from lms.courses.catalogue import (
    courses_by_code,
    list_courses,
    module_codes_of_courses,
    modules_by_code,
)
from lms.courses.models import Attempt, AttemptStatus, Quiz
from lms.courses.time_on_task import contact_hours_by_student, contact_hours_facts
from lms.db import among, utc_text
from lms.extensions import db
from lms.ledger import service as ledger

__all__ = [
    "AttemptSummary",
    "attempt_scores",
    "attempt_summary",
    "contact_hours_by_student",
    "contact_hours_facts",
    "courses_by_code",
    "list_courses",
    "module_codes_of_courses",
    "modules_by_code",
]


def attempt_scores(
    student_ids: Iterable[int], module_ids: Iterable[int]
) -> list[tuple[int, int, float, datetime]]:
    """(student, module, score, submitted at) for every scored attempt, in one query."""
    student_ids, module_ids = list(student_ids), list(module_ids)
    if not student_ids or not module_ids:
        return []
    rows = db.session.execute(
        select(Attempt.student_id, Quiz.module_id, Attempt.score, Attempt.submitted_at)
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .where(
            Attempt.status == AttemptStatus.SUBMITTED,
            Attempt.score.is_not(None),
            Attempt.submitted_at.is_not(None),
            among(Attempt.student_id, student_ids),
            Quiz.module_id.in_(module_ids),
        )
    )
    return [(sid, mid, float(score), when) for sid, mid, score, when in rows]


@dataclass(frozen=True)
class AttemptSummary:
    """Submitted quiz attempts of many students, summed up per student and module."""

    # (student id, module id, best score, failed attempts), one per pair with an attempt
    by_module: list[tuple[int, int, float | None, int]]
    last_submitted: dict[int, datetime]  # student id -> newest submission on those modules


def attempt_summary(student_ids: Iterable[int], module_ids: Iterable[int]) -> AttemptSummary:
    """Best score and failed attempts per student and module, and each student's newest
    submission, in one query: what readiness and the at-risk check need of the attempts,
    without a row per attempt."""
    student_ids, module_ids = list(student_ids), list(module_ids)
    summary = AttemptSummary([], {})
    if not student_ids or not module_ids:
        return summary
    graded = Attempt.submitted_at.is_not(None)
    # read a batch at a time (a Core result): the rows are never all held as objects at once
    rows = db.session.connection().execute(
        select(
            Attempt.student_id,
            func.min(Quiz.module_id),  # the module of the group's one quiz
            cast(func.max(case((graded, Attempt.score))), Float),
            func.sum(case((Attempt.passed.is_(False), 1), else_=0)),
            # as text that orders like the time: only each student's newest is parsed
            utc_text(func.max(Attempt.submitted_at)),
        )
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .where(
            Attempt.status == AttemptStatus.SUBMITTED,
            among(Attempt.student_id, student_ids),
            Quiz.module_id.in_(module_ids),
        )
        # by quiz (a module has one), in the order of the (student_id, quiz_id) index
        .group_by(Attempt.student_id, Attempt.quiz_id)
    )
    add = summary.by_module.append
    newest: dict[int, datetime | str] = {}
    for batch in rows.partitions(ledger.STREAM_BATCH):
        for student_id, module_id, best, failed, last in batch:
            add((student_id, module_id, best, failed))
            if last is not None and (student_id not in newest or last > newest[student_id]):
                newest[student_id] = last
    summary.last_submitted.update((sid, _as_datetime(last)) for sid, last in newest.items())
    return summary


def _as_datetime(value: datetime | str) -> datetime:
    # Aggregates bypass the column type, so SQLite hands back naive text here.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
