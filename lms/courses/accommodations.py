"""Extra time on timed quizzes for a student (an accommodation): grant, change, end, read.

The rows live here, with the attempts they lengthen: starting an attempt reads the standing
grant. Who may grant is decided above, where cohorts are known (``lms.enrollment``): an
instructor of a cohort the student is actively enrolled in, or an admin. Every grant, change
and end is in the audit log with its reason."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from lms.auth.models import User
from lms.courses.models import Accommodation
from lms.courses.rules import timing
from lms.errors import Conflict, InvalidInput, PermissionDenied
from lms.extensions import db
from lms.ledger import audit


def standing_accommodation(student_id: int) -> Accommodation | None:
    """The student's extra time in force (not ended), or None."""
    return db.session.scalar(
        select(Accommodation)
        .where(Accommodation.student_id == student_id, Accommodation.ended_at.is_(None))
        .order_by(Accommodation.granted_at.desc(), Accommodation.id.desc())
        .limit(1)
    )


def extra_time_multiplier(student_id: int) -> float | None:
    """The multiplier of the student's extra time in force, or None."""
    return db.session.scalar(
        select(Accommodation.multiplier)
        .where(Accommodation.student_id == student_id, Accommodation.ended_at.is_(None))
        .order_by(Accommodation.granted_at.desc(), Accommodation.id.desc())
        .limit(1)
    )


def accommodation_history(student_id: int) -> list[Accommodation]:
    """Every grant of extra time the student has had, the newest first, with who granted and
    who ended it."""
    return list(
        db.session.scalars(
            select(Accommodation)
            .where(Accommodation.student_id == student_id)
            .options(selectinload(Accommodation.granted_by), selectinload(Accommodation.ended_by))
            .order_by(Accommodation.granted_at.desc(), Accommodation.id.desc())
        )
    )


def _check_staff(actor: User) -> None:
    if not (actor.is_admin or actor.is_instructor):
        raise PermissionDenied("Only an instructor or an admin grants extra time.")


def grant_extra_time(
    actor: User,
    student: User,
    *,
    multiplier: str,
    reason: str,
    now: datetime,
    cohort_id: int | None = None,
) -> Accommodation:
    """Give the student extra time on every timed quiz they start from now on (the limit
    times ``multiplier``), with a reason; a standing grant is ended and replaced (a change).
    Attempts already started keep their deadline. ``cohort_id``: the cohort through which
    the actor teaches the student, for the audit log. The caller has checked that the actor
    may (see ``lms.enrollment.accommodations``)."""
    _check_staff(actor)
    if not student.is_student:
        raise InvalidInput("Extra time is for students.")
    reason = (reason or "").strip()
    problems = timing.extra_time_problems(multiplier, reason)
    if problems:
        raise InvalidInput(problems=problems)
    value = timing.parse_multiplier(multiplier)
    standing = standing_accommodation(student.id)
    if standing is not None and standing.multiplier == value:
        raise Conflict(
            f"{student.full_name} already has {value:g} times the time limit.", field="multiplier"
        )
    accommodation = Accommodation(
        student_id=student.id,
        multiplier=value,
        reason=reason,
        granted_by_id=actor.id,
        granted_at=now,
    )
    try:
        with db.session.begin_nested():
            if standing is not None:
                standing.ended_at, standing.ended_by_id = now, actor.id
                standing.end_reason = f"Changed to {value:g} times: {reason}"
                db.session.flush()
            db.session.add(accommodation)
            db.session.flush()
    except IntegrityError as error:  # another request granted extra time at the same moment
        raise Conflict(
            f"{student.full_name}'s extra time was changed at the same moment by someone "
            "else. Open the page again to see where it stands.",
            field="multiplier",
        ) from error
    audit.record_event(
        "accommodation.changed" if standing is not None else "accommodation.granted",
        actor=actor,
        now=now,
        target_type="accommodation",
        target_id=accommodation.id,
        details={
            "student_id": student.id,
            "multiplier": value,
            "previous_multiplier": standing.multiplier if standing is not None else None,
            "reason": reason,
            "cohort_id": cohort_id,
        },
    )
    return accommodation


def end_extra_time(
    actor: User, student: User, *, reason: str, now: datetime, cohort_id: int | None = None
) -> Accommodation:
    """End the student's extra time, with a reason: quizzes they start from now on have the
    plain time limit (an attempt already started keeps its deadline)."""
    _check_staff(actor)
    reason = (reason or "").strip()
    problems = timing.end_problems(reason)
    if problems:
        raise InvalidInput(problems=problems)
    standing = standing_accommodation(student.id)
    if standing is None:
        raise Conflict(f"{student.full_name} has no extra time to end.", field="end_reason")
    standing.ended_at, standing.ended_by_id, standing.end_reason = now, actor.id, reason
    db.session.flush()
    audit.record_event(
        "accommodation.ended",
        actor=actor,
        now=now,
        target_type="accommodation",
        target_id=standing.id,
        details={
            "student_id": student.id,
            "multiplier": standing.multiplier,
            "reason": reason,
            "cohort_id": cohort_id,
        },
    )
    return standing
