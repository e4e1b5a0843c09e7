"""Who may see what through a cohort: the cohorts an instructor teaches (every cohort for an
admin), the enrolments in them, whether they teach a given student, and whether they may
revoke a certificate.

Only an ACTIVE enrolment opens a student's records to the cohort's instructors: a place the
student has not accepted yet (pending), declined, or left (withdrawn) opens nothing."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms.auth.models import User
from lms.credentials.models import Certificate
from lms.enrollment.models import Cohort, Enrollment, EnrollmentStatus, cohort_instructor
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


def get_enrollment_for(
    actor: User, cohort: Cohort, student_id: int, *, withdrawn: bool = False
) -> Enrollment:
    """The enrolment of a student in a cohort the actor teaches, or 404: an active one (any
    status for an admin); with ``withdrawn``, a withdrawn one too (its page shows the
    enrolment's history only). A place the student has not accepted, or declined, is 404."""
    enrollment = find_enrollment(cohort.id, student_id)
    if enrollment is None or not (
        actor.is_admin
        or enrollment.status is EnrollmentStatus.ACTIVE
        or (withdrawn and enrollment.status is EnrollmentStatus.WITHDRAWN)
    ):
        raise NotFound("That student is not in this cohort.")
    return enrollment


def shows_record(actor: User, enrollment: Enrollment) -> bool:
    """Whether the actor sees the student's record through this enrolment: an admin always,
    an instructor while it is active."""
    return actor.is_admin or enrollment.status is EnrollmentStatus.ACTIVE


def teaches_student(actor: User, student_id: int) -> bool:
    """True when the actor is an admin, or teaches a cohort the student is actively enrolled
    in (not one they were only asked to join, declined, or left)."""
    if actor.is_admin:
        return True
    count = db.session.scalar(
        select(func.count())
        .select_from(Enrollment)
        .join(cohort_instructor, cohort_instructor.c.cohort_id == Enrollment.cohort_id)
        .where(
            Enrollment.student_id == student_id,
            Enrollment.status == EnrollmentStatus.ACTIVE,
            cohort_instructor.c.user_id == actor.id,
        )
    )
    return bool(count)


def may_revoke(actor: User, certificate: Certificate, cohort: Cohort | None = None) -> bool:
    """Whether the actor may revoke the certificate: an admin always; an instructor who
    teaches an active (not archived) cohort aimed at the certificate's credential in which its
    holder is actively enrolled (with ``cohort``, that cohort must be one)."""
    if actor.is_admin:
        return True
    query = (
        select(func.count())
        .select_from(Cohort)
        .join(cohort_instructor, cohort_instructor.c.cohort_id == Cohort.id)
        .join(Enrollment, Enrollment.cohort_id == Cohort.id)
        .where(
            cohort_instructor.c.user_id == actor.id,
            Cohort.archived_at.is_(None),
            Cohort.credential_id == certificate.credential_id,
            Enrollment.student_id == certificate.student_id,
            Enrollment.status == EnrollmentStatus.ACTIVE,
        )
    )
    if cohort is not None:
        query = query.where(Cohort.id == cohort.id)
    return bool(db.session.scalar(query))
