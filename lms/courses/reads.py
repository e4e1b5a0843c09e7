"""What the domains above read of courses (credentials, enrollment, reports, api, lti): the
one module they import. Scores of attempts are read here; the catalogue's and time on task's
reads are published from their modules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Float, case, cast, func, select

from lms.courses.attempts.loading import load_attempt
from lms.courses.catalogue import (
    courses_by_code,
    list_courses,
    module_codes_of_courses,
    modules_by_code,
)
from lms.courses.models import Attempt, AttemptStatus, Course, Module, Quiz
from lms.courses.player import StaffReview, staff_review
from lms.courses.time_on_task import contact_hours_by_student, contact_hours_facts
from lms.db import among, utc_text
from lms.extensions import db
from lms.ledger import service as ledger

__all__ = [
    "AttemptRow",
    "AttemptSummary",
    "QuizGrade",
    "QuizHeading",
    "StaffReview",
    "attempt_rows",
    "attempts_by_quiz",
    "attempt_scores",
    "attempt_summary",
    "load_attempt",
    "quiz_grades",
    "quizzes_of_courses",
    "staff_review",
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


@dataclass(frozen=True)
class QuizHeading:
    """A quiz with the module and course it closes: a column of a gradebook."""

    quiz_id: int
    title: str
    passing_score: int
    module_id: int
    module_code: str
    module_title: str
    course_code: str
    course_title: str


def quizzes_of_courses(named: Iterable[tuple[str, str]]) -> list[QuizHeading]:
    """Every quiz of the courses named, in one query. ``named`` is a list of ("course", code)
    and ("module", code) pairs, a module standing for its course; the courses come in the
    order they are first named, each course's quizzes in module order."""
    named = list(named)
    module_codes = [code for kind, code in named if kind == "module"]
    course_codes = [code for kind, code in named if kind == "course"]
    if not named:
        return []
    courses_of_modules = select(Module.course_id).where(Module.code.in_(module_codes))
    # every module of those courses (a module without a quiz still says where its course is)
    rows = db.session.execute(
        select(
            Quiz.id,
            Quiz.title,
            Quiz.passing_score,
            Module.id,
            Module.code,
            Module.title,
            Module.position,
            Course.code,
            Course.title,
        )
        .select_from(Module)
        .join(Course, Course.id == Module.course_id)
        .outerjoin(Quiz, Quiz.module_id == Module.id)
        .where(Course.code.in_(course_codes) | Course.id.in_(courses_of_modules))
    ).all()
    course_of_module = {row[4]: row[7] for row in rows}
    rank: dict[str, int] = {}
    for kind, code in named:
        course = course_of_module.get(code) if kind == "module" else code
        if course is not None:
            rank.setdefault(course, len(rank))
    rows = [row for row in rows if row[0] is not None]
    rows.sort(key=lambda row: (rank.get(row[7], len(rank)), row[7], row[6]))
    return [
        QuizHeading(quiz_id, title, passing, module_id, code, module_title, course, course_title)
        for quiz_id, title, passing, module_id, code, module_title, _, course, course_title in rows
    ]


@dataclass(frozen=True)
class QuizGrade:
    """A student's standing on one quiz: best score, attempts graded, whether any passed."""

    best: float | None
    attempts: int
    passed: bool
    open: int = 0  # attempts not yet submitted


def quiz_grades(
    student_ids: Iterable[int], quiz_ids: Iterable[int]
) -> dict[tuple[int, int], QuizGrade]:
    """{(student id, quiz id): grade} for every pair with an attempt, in one query whatever
    the number of students and quizzes."""
    student_ids, quiz_ids = list(student_ids), list(quiz_ids)
    if not student_ids or not quiz_ids:
        return {}
    graded = Attempt.status == AttemptStatus.SUBMITTED
    rows = db.session.execute(
        select(
            Attempt.student_id,
            Attempt.quiz_id,
            cast(func.max(case((graded, Attempt.score))), Float),
            func.sum(case((graded, 1), else_=0)),
            func.sum(case((Attempt.passed.is_(True), 1), else_=0)),
            func.sum(case((graded, 0), else_=1)),
        )
        .where(among(Attempt.student_id, student_ids), Attempt.quiz_id.in_(quiz_ids))
        .group_by(Attempt.student_id, Attempt.quiz_id)
    )
    return {
        (sid, qid): QuizGrade(best, int(count or 0), bool(passed), int(still_open or 0))
        for sid, qid, best, count, passed, still_open in rows
    }


@dataclass(frozen=True)
class AttemptRow:
    """One attempt as a list of grades shows it (with its quiz, module and course)."""

    id: int
    student_id: int
    number: int
    status: AttemptStatus
    started_at: datetime
    submitted_at: datetime | None
    score: float | None
    passed: bool | None
    closed_by_deadline: bool
    quiz: QuizHeading

    @property
    def submitted(self) -> bool:
        return self.status is AttemptStatus.SUBMITTED


def attempt_rows(student_id: int, quiz_ids: Iterable[int] | None = None) -> list[AttemptRow]:
    """A student's attempts (at the given quizzes, or at every quiz), by course, module and
    attempt number, in one query."""
    query = (
        select(
            Attempt.id,
            Attempt.number,
            Attempt.status,
            Attempt.started_at,
            Attempt.submitted_at,
            Attempt.score,
            Attempt.passed,
            Attempt.closed_by_deadline,
            Quiz.id,
            Quiz.title,
            Quiz.passing_score,
            Module.id,
            Module.code,
            Module.title,
            Course.code,
            Course.title,
        )
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .join(Module, Module.id == Quiz.module_id)
        .join(Course, Course.id == Module.course_id)
        .where(Attempt.student_id == student_id)
        .order_by(Course.title, Course.code, Module.position, Attempt.number)
    )
    if quiz_ids is not None:
        query = query.where(Attempt.quiz_id.in_(list(quiz_ids)))
    return [
        AttemptRow(
            id=row[0],
            student_id=student_id,
            number=row[1],
            status=row[2],
            started_at=row[3],
            submitted_at=row[4],
            score=None if row[5] is None else float(row[5]),
            passed=row[6],
            closed_by_deadline=row[7],
            quiz=QuizHeading(*row[8:16]),
        )
        for row in db.session.execute(query)
    ]


def attempts_by_quiz(student_id: int) -> list[tuple[QuizHeading, list[AttemptRow]]]:
    """A student's attempts grouped by quiz (course by course, in module order), in one
    query: their grades page."""
    grouped: dict[int, tuple[QuizHeading, list[AttemptRow]]] = {}
    for row in attempt_rows(student_id):
        grouped.setdefault(row.quiz.quiz_id, (row.quiz, []))[1].append(row)
    return list(grouped.values())


def pass_marks(codes: Iterable[str]) -> dict[str, int]:
    """The pass mark (the quiz's passing score, percent) of each module with a quiz, by the
    module's code, in one query."""
    rows = db.session.execute(
        select(Module.code, Quiz.passing_score)
        .join(Quiz, Quiz.module_id == Module.id)
        .where(Module.code.in_(list(codes)))
    )
    return {code: score for code, score in rows}
