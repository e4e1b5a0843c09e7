"""The gradebook of a cohort: every actively enrolled student's best score and attempts on
each quiz of the courses its credential asks for, a page at a time, in a fixed number of
queries whatever the cohort's size; and one student's attempts at one of those quizzes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select

from lms.auth.models import User
from lms.courses import reads as courses
from lms.credentials import rules
from lms.credentials import service as credentials
from lms.enrollment import paging
from lms.enrollment.models import Cohort, Enrollment, EnrollmentStatus
from lms.enrollment.progress.matrix import Student
from lms.errors import NotFound
from lms.extensions import db


@dataclass(frozen=True, slots=True)
class GradebookRow:
    """One student's line: a grade (or ``None``: never attempted) for each column."""

    student: Student
    grades: tuple[courses.QuizGrade | None, ...]


@dataclass(frozen=True)
class Gradebook:
    """The quizzes of a cohort's courses and a page of its students' grades on them."""

    cohort: Cohort
    columns: list[courses.QuizHeading]
    rows: list[GradebookRow]
    window: paging.Window
    links: list[int | None]
    no_requirements: credentials.NoRequirements | None = None


def gradebook_quizzes(cohort: Cohort) -> list[courses.QuizHeading]:
    """Every quiz of the courses the cohort's credential asks for (the courses it names and
    those of the modules it names), course by course in module order; ``NoRequirements``
    when the credential has none yet."""
    requirement_set = credentials.current_requirement_set(cohort.credential)
    named: list[tuple[str, str]] = []
    for leaf in rules.leaves(rules.parse_requirements(requirement_set.tree)):
        module, course = getattr(leaf, "module", None), getattr(leaf, "course", None)
        if module:
            named.append(("module", module))
        elif course:
            named.append(("course", course))
    return courses.quizzes_of_courses(named)


def active_student_ids(cohort_id: int) -> Select:
    """A SELECT of the ids of the cohort's actively enrolled students."""
    return select(Enrollment.student_id).where(
        Enrollment.cohort_id == cohort_id, Enrollment.status == EnrollmentStatus.ACTIVE
    )


def active_students(cohort: Cohort) -> list[Student]:
    """The cohort's actively enrolled students by name, in one query."""
    students = [
        Student(*row)
        for row in db.session.execute(
            select(User.id, User.full_name, User.email)
            .join(Enrollment, Enrollment.student_id == User.id)
            .where(Enrollment.cohort_id == cohort.id, Enrollment.status == EnrollmentStatus.ACTIVE)
        )
    ]
    students.sort(key=lambda s: (s.full_name.lower(), s.id))
    return students


def grade_rows(students: list[Student], columns: list[courses.QuizHeading]) -> list[GradebookRow]:
    """The students' grades on the columns' quizzes, in one query."""
    quiz_ids = [column.quiz_id for column in columns]
    grades = courses.quiz_grades([s.id for s in students], quiz_ids)
    return [
        GradebookRow(s, tuple(grades.get((s.id, quiz_id)) for quiz_id in quiz_ids))
        for s in students
    ]


def cohort_gradebook(cohort: Cohort, page: int, per_page: int) -> Gradebook:
    """One page of the gradebook (``page`` past the last: no rows, ``window.exists`` false)."""
    students = active_students(cohort)
    shown = paging.window(len(students), page, per_page)
    links = paging.page_links(min(page, shown.pages), shown.pages)
    try:
        columns = gradebook_quizzes(cohort)
    except credentials.NoRequirements as missing:
        columns, no_requirements = [], missing
    else:
        no_requirements = None
    return Gradebook(
        cohort=cohort,
        columns=columns,
        rows=grade_rows(students[shown.start : shown.stop], columns),
        window=shown,
        links=links,
        no_requirements=no_requirements,
    )


def whole_gradebook(cohort: Cohort) -> tuple[list[courses.QuizHeading], list[GradebookRow]]:
    """Every active student's grades on every quiz (for the CSV download)."""
    try:
        columns = gradebook_quizzes(cohort)
    except credentials.NoRequirements:
        columns = []
    return columns, grade_rows(active_students(cohort), columns)


def gradebook_quiz(cohort: Cohort, quiz_id: int) -> courses.QuizHeading:
    """A quiz of the cohort's gradebook, or ``NotFound``."""
    try:
        columns = gradebook_quizzes(cohort)
    except credentials.NoRequirements:
        columns = []
    quiz = next((column for column in columns if column.quiz_id == quiz_id), None)
    if quiz is None:
        raise NotFound("That quiz is not part of this cohort's courses.")
    return quiz
