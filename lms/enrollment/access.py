"""Who may see what through a cohort: the cohorts an instructor teaches (every cohort for an
admin), the enrolments in them, and whether they teach a given student."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms.auth.models import User
from lms.enrollment.models import Cohort, Enrollment, cohort_instructor
from lms.errors import NotFound
from lms.extensions import db


def get_cohort_for(actor: User, cohort_id: int) -> Cohort:
    """A cohort the actor teaches (or any, for an admin); ``NotFound`` otherwise."""
    cohort = db.session.scalar(
        select(Cohort)
        .where(Cohort.id == cohort_id)
        .options(selectinload(Cohort.credential), selectinload(Cohort.instructors))
    )
    if cohort is None or not (actor.is_admin or actor in cohort.instructors):
        raise NotFound("There is no such cohort among yours.")
    return cohort


def find_enrollment(cohort_id: int, student_id: int) -> Enrollment | None:
    """The enrolment (any status) of a student in a cohort, with the student, or None."""
    return db.session.scalar(
        select(Enrollment)
        .where(Enrollment.cohort_id == cohort_id, Enrollment.student_id == student_id)
        .options(selectinload(Enrollment.student))
    )


def get_enrollment_for(actor: User, cohort: Cohort, student_id: int) -> Enrollment:
    """The enrolment (any status) of a student in a cohort the actor teaches, or 404."""
    enrollment = find_enrollment(cohort.id, student_id)
    if enrollment is None:
        raise NotFound("That student is not in this cohort.")
    return enrollment


def teaches_student(actor: User, student_id: int) -> bool:
    """True when the actor is an admin, or teaches a cohort the student is enrolled in."""
    if actor.is_admin:
        return True
    count = db.session.scalar(
        select(func.count())
        .select_from(Enrollment)
        .join(cohort_instructor, cohort_instructor.c.cohort_id == Enrollment.cohort_id)
        .where(Enrollment.student_id == student_id, cohort_instructor.c.user_id == actor.id)
    )
    return bool(count)
