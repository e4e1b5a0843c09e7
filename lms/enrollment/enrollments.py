"""Enrolments: enrolling a student (by email, by roster, by join code), withdrawing, moving to
another cohort, and who is enrolled where. Every change keeps its history
(``EnrollmentEvent``) and writes an audit event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from lms.auth import service as accounts
from lms.auth.models import User
from lms.credentials import service as credentials
from lms.enrollment import invitations
from lms.enrollment.access import find_enrollment, get_cohort_for
from lms.enrollment.models import (
    Cohort,
    Enrollment,
    EnrollmentEvent,
    EnrollmentEventKind,
    EnrollmentStatus,
)
from lms.enrollment.rules.cohorts import enrolment_problems, normalise_join_code
from lms.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from lms.extensions import db
from lms.ledger import audit

# --- joining by code ---------------------------------------------------------------------


def cohort_by_join_code(typed: str) -> Cohort:
    """The cohort a join code opens; ``NotFound`` or ``Conflict`` with a clear reason."""
    code = normalise_join_code(typed)
    cohort = None
    if code is not None:
        cohort = db.session.scalar(
            select(Cohort).where(Cohort.join_code == code).options(selectinload(Cohort.credential))
        )
    if cohort is None:
        raise NotFound("No cohort has this join code. Check it with your instructor.")
    if cohort.is_archived:
        raise Conflict(f"{cohort.name} is archived, so its join code no longer works.")
    if not cohort.join_enabled:
        raise Conflict(f"Joining {cohort.name} by code is turned off. Ask your instructor.")
    return cohort


def self_enroll(student: User, typed_code: str, now: datetime) -> Enrollment:
    """A student joins a cohort with its join code."""
    if not student.is_student:
        raise PermissionDenied("Only students join cohorts.")
    cohort = cohort_by_join_code(typed_code)
    return _enroll(student, cohort, student, now, kind=EnrollmentEventKind.SELF_ENROLLED)


# --- enrolments --------------------------------------------------------------------------


def _record(
    enrollment: Enrollment,
    kind: EnrollmentEventKind,
    actor: User | None,
    now: datetime,
    note: str | None = None,
) -> EnrollmentEvent:
    event = EnrollmentEvent(
        enrollment_id=enrollment.id,
        cohort_id=enrollment.cohort_id,
        student_id=enrollment.student_id,
        kind=kind,
        actor_id=actor.id if actor else None,
        occurred_at=now,
        note=note,
    )
    db.session.add(event)
    return event


def _check_open(cohort: Cohort) -> None:
    if cohort.is_archived:
        raise Conflict(f"{cohort.name} is archived and takes no new students.")


def _enroll(
    actor: User,
    cohort: Cohort,
    student: User,
    now: datetime,
    *,
    kind: EnrollmentEventKind = EnrollmentEventKind.ENROLLED,
    student_number: str | None = None,
    note: str | None = None,
    check_ready: bool = True,
) -> Enrollment:
    _check_open(cohort)
    enrollment = find_enrollment(cohort.id, student.id)
    if enrollment is not None and enrollment.status is EnrollmentStatus.ACTIVE:
        raise Conflict(f"{student.full_name} is already enrolled in {cohort.name}.")
    if enrollment is None:
        enrollment = Enrollment(cohort=cohort, student=student, enrolled_at=now)
        db.session.add(enrollment)
    elif kind is EnrollmentEventKind.ENROLLED:
        kind = EnrollmentEventKind.REENROLLED
    enrollment.status = EnrollmentStatus.ACTIVE
    if student_number:
        enrollment.student_number = student_number
    db.session.flush()
    _record(enrollment, kind, actor, now, note)
    audit.record_event(
        "enrollment.added",
        actor=actor,
        now=now,
        target_type="enrollment",
        target_id=enrollment.id,
        details={"cohort_id": cohort.id, "student_id": student.id, "how": kind.value},
    )
    if check_ready:
        credentials.issue_if_ready(student, [(cohort.credential, cohort.id)], now)
    return enrollment


def enroll_by_email(
    actor: User,
    cohort: Cohort,
    email: str,
    now: datetime,
    *,
    full_name: str | None = None,
    student_number: str | None = None,
) -> Enrollment:
    """Enrol the student with this email; with a name, invite a person who has no account."""
    _check_open(cohort)  # first: an invitation would be mailed even for a refused enrolment
    address = email.strip().lower()
    student = accounts.find_user_by_email(address)
    is_student = None if student is None else student.is_student
    problems = enrolment_problems(address, is_student=is_student, full_name=full_name)
    if problems:
        raise InvalidInput(problems=problems)
    if student is None:
        student, _ = invitations.invite_student(actor, address, full_name or "", now)
    return _enroll(actor, cohort, student, now, student_number=student_number)


def enroll_student(
    actor: User,
    cohort: Cohort,
    student: User,
    now: datetime,
    *,
    student_number: str | None = None,
    check_ready: bool = True,
) -> Enrollment:
    """Enrol (or re-enrol) a student account, keeping the history; ``check_ready=False``
    skips the readiness check for an account just created (it has no facts yet)."""
    return _enroll(
        actor, cohort, student, now, student_number=student_number, check_ready=check_ready
    )


def withdraw(actor: User, cohort: Cohort, student_id: int, reason: str, now: datetime) -> None:
    """Withdraw a student from the cohort; the enrolment and its history are kept."""
    enrollment = find_enrollment(cohort.id, student_id)
    if enrollment is None:
        raise NotFound("That student is not in this cohort.")
    if enrollment.status is not EnrollmentStatus.ACTIVE:
        raise Conflict(f"{enrollment.student.full_name} is already withdrawn.")
    enrollment.status = EnrollmentStatus.WITHDRAWN
    db.session.flush()
    _record(enrollment, EnrollmentEventKind.WITHDRAWN, actor, now, reason.strip() or None)
    audit.record_event(
        "enrollment.withdrawn",
        actor=actor,
        now=now,
        target_type="enrollment",
        target_id=enrollment.id,
        details={"cohort_id": cohort.id, "student_id": student_id, "reason": reason.strip()},
    )


def move_student(
    actor: User, cohort: Cohort, student_id: int, target_cohort_id: int, now: datetime
) -> Enrollment:
    """Move a student to another cohort the actor teaches; completions are the student's, so
    they count there too."""
    enrollment = find_enrollment(cohort.id, student_id)
    if enrollment is None or enrollment.status is not EnrollmentStatus.ACTIVE:
        raise NotFound("That student is not active in this cohort.")
    target = get_cohort_for(actor, target_cohort_id)
    if target.id == cohort.id:
        raise InvalidInput("Choose a different cohort to move the student to.", field="target")
    student = enrollment.student
    moved = _enroll(
        actor,
        target,
        student,
        now,
        kind=EnrollmentEventKind.MOVED_IN,
        student_number=enrollment.student_number,
        note=f"from {cohort.name}",
    )
    enrollment.status = EnrollmentStatus.WITHDRAWN
    db.session.flush()
    _record(enrollment, EnrollmentEventKind.MOVED_OUT, actor, now, f"to {target.name}")
    audit.record_event(
        "enrollment.moved",
        actor=actor,
        now=now,
        target_type="enrollment",
        target_id=moved.id,
        details={"from_cohort_id": cohort.id, "to_cohort_id": target.id, "student_id": student_id},
    )
    return moved


def enrollment_history(
    student_id: int, cohort_ids: list[int] | None = None
) -> list[EnrollmentEvent]:
    """The enrolment events of a student, oldest first (in the given cohorts, if any)."""
    query = (
        select(EnrollmentEvent)
        .where(EnrollmentEvent.student_id == student_id)
        .options(selectinload(EnrollmentEvent.cohort), selectinload(EnrollmentEvent.actor))
        .order_by(EnrollmentEvent.occurred_at, EnrollmentEvent.id)
    )
    if cohort_ids is not None:
        query = query.where(EnrollmentEvent.cohort_id.in_(cohort_ids))
    return list(db.session.scalars(query))


def withdraw_student(actor: User, cohort: Cohort, student: User, now: datetime) -> None:
    """Withdraw a student who left the school's LMS course (LTI roster sync); ``Conflict``
    when they are not actively enrolled."""
    try:
        withdraw(actor, cohort, student.id, "Dropped from the LMS course roster", now)
    except NotFound as error:
        raise Conflict(f"{student.full_name} is not enrolled in {cohort.name}.") from error


# --- who is enrolled --------------------------------------------------------------------


def active_enrollments(student: User) -> list[Enrollment]:
    """The cohorts a student is in now, with their credentials."""
    return list(
        db.session.scalars(
            select(Enrollment)
            .where(
                Enrollment.student_id == student.id,
                Enrollment.status == EnrollmentStatus.ACTIVE,
            )
            .options(selectinload(Enrollment.cohort).selectinload(Cohort.credential))
            .order_by(Enrollment.enrolled_at)
        )
    )


def active_students(cohort: Cohort) -> list[User]:
    """The students enrolled in a cohort now, by name, in one query."""
    students = db.session.scalars(
        select(User)
        .join(Enrollment, Enrollment.student_id == User.id)
        .where(Enrollment.cohort_id == cohort.id, Enrollment.status == EnrollmentStatus.ACTIVE)
    )
    return sorted(students, key=lambda s: s.full_name.lower())


def student_ids_select(cohort_id: int) -> Select:
    """A SELECT of the ids of every student ever enrolled in a cohort, for filters."""
    return select(Enrollment.student_id).where(Enrollment.cohort_id == cohort_id)
