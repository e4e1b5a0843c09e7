"""Extra time on timed quizzes (an accommodation), granted from a student's record page.

Who may: an instructor of a cohort the student is actively enrolled in (the cohort of the
page), or an admin. The grant itself, its history and its audit entries are the courses
domain's (``lms.courses.accommodations``), where attempts read it when they start."""

from __future__ import annotations

from datetime import datetime

from lms.auth.models import User
from lms.courses import accommodations
from lms.courses.models import Accommodation
from lms.enrollment.models import Cohort, Enrollment, EnrollmentStatus
from lms.errors import Conflict, NotFound


def _check_active(cohort: Cohort, enrollment: Enrollment) -> None:
    if enrollment.cohort_id != cohort.id:
        raise NotFound("That student is not in this cohort.")
    if enrollment.status is not EnrollmentStatus.ACTIVE:
        raise Conflict(
            f"{enrollment.student.full_name} is no longer enrolled in {cohort.name}: extra time "
            "is granted through a cohort they are in."
        )


def grant_extra_time(
    actor: User,
    cohort: Cohort,
    enrollment: Enrollment,
    *,
    multiplier: str,
    reason: str,
    now: datetime,
) -> Accommodation:
    """Grant (or change) the student's extra time through a cohort they are actively in. The
    caller has loaded the cohort and the enrolment through ``access`` (404 for a cohort the
    actor does not teach)."""
    _check_active(cohort, enrollment)
    return accommodations.grant_extra_time(
        actor,
        enrollment.student,
        multiplier=multiplier,
        reason=reason,
        now=now,
        cohort_id=cohort.id,
    )


def end_extra_time(
    actor: User, cohort: Cohort, enrollment: Enrollment, *, reason: str, now: datetime
) -> Accommodation:
    """End the student's extra time, through a cohort they are actively in."""
    _check_active(cohort, enrollment)
    return accommodations.end_extra_time(
        actor, enrollment.student, reason=reason, now=now, cohort_id=cohort.id
    )
