"""Enrolments: enrolling a student (by email, by roster, by join code), withdrawing, moving to
another cohort, and who is enrolled where. Every change keeps its history
(``EnrollmentEvent``) and writes an audit event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from lms import links
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
from lms.enrollment.progress import readmodel
from lms.enrollment.rules.cohorts import enrolment_problems, normalise_join_code
from lms.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from lms.extensions import db
from lms.ledger import audit
from lms.mail import send_mail

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
    # every change of a place is recorded here: the cohort page's rows follow it at once
    readmodel.refresh_students([enrollment.student_id], now)
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
    pending: bool = False,
) -> Enrollment:
    """Give the student a place in the cohort: an active one, or with ``pending`` one that
    waits for the student to accept it (and a mail telling them so)."""
    _check_open(cohort)
    enrollment = find_enrollment(cohort.id, student.id)
    if enrollment is not None and enrollment.status is EnrollmentStatus.ACTIVE:
        raise Conflict(f"{student.full_name} is already enrolled in {cohort.name}.")
    if pending and enrollment is not None and enrollment.status is EnrollmentStatus.PENDING:
        raise Conflict(
            f"{student.full_name} has already been asked to join {cohort.name} and has not "
            "answered yet."
        )
    if enrollment is None:
        enrollment = Enrollment(cohort=cohort, student=student, enrolled_at=now)
        db.session.add(enrollment)
    elif kind is EnrollmentEventKind.ENROLLED:
        kind = EnrollmentEventKind.REENROLLED
    if pending:
        kind = EnrollmentEventKind.INVITED
        enrollment.enrolled_at = now  # when they were asked; accepting sets it again
    enrollment.status = EnrollmentStatus.PENDING if pending else EnrollmentStatus.ACTIVE
    if student_number:
        enrollment.student_number = student_number
    db.session.flush()
    _record(enrollment, kind, actor, now, note)
    audit.record_event(
        "enrollment.invited" if pending else "enrollment.added",
        actor=actor,
        now=now,
        target_type="enrollment",
        target_id=enrollment.id,
        details={"cohort_id": cohort.id, "student_id": student.id, "how": kind.value},
    )
    if pending:
        _send_acceptance_request(actor, cohort, student, enrollment.id, now)
    elif check_ready:
        credentials.issue_if_ready(student, [(cohort.credential, cohort.id)], now)
    return enrollment


def _send_acceptance_request(
    actor: User, cohort: Cohort, student: User, enrollment_id: int, now: datetime
) -> None:
    """Tell the student an instructor asks them to join a cohort, and where to answer (each
    asking is its own message: asked again after declining, they are mailed again)."""
    link = links.external_url("enrollment.dashboard")
    send_mail(
        student.email,
        f"{actor.full_name} invites you to join {cohort.name}",
        f"Hello {student.full_name},\n\n{actor.full_name} asks you to join the cohort "
        f"{cohort.name} ({cohort.credential.code}). If you accept, its instructors will see "
        "your progress, your evidence, your transcript and your certificates. Nothing is "
        "shared until you accept.\n\nAccept or decline on your dashboard:\n\n"
        f"{link}\n\nIf you do not know this instructor or this school, decline.\n",
        kind="invitation",
        key=f"place:{enrollment_id}:{now.isoformat()}",
        now=now,
    )


def needs_acceptance(actor: User) -> bool:
    """Whether an existing account the actor adds to a cohort must accept first: always,
    unless the actor is an admin (an instructor could otherwise reach any student's records
    by enrolling them)."""
    return not actor.is_admin


def enroll_by_email(
    actor: User,
    cohort: Cohort,
    email: str,
    now: datetime,
    *,
    full_name: str | None = None,
    student_number: str | None = None,
) -> Enrollment:
    """Enrol the student with this email; with a name, invite a person who has no account.

    An instructor adding an existing account asks the student: the enrolment is pending
    until they accept it on their dashboard. A new account, invited by email to this cohort,
    is enrolled at once (setting the password is their acceptance); so is anyone an admin
    adds."""
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
    return _enroll(
        actor, cohort, student, now, student_number=student_number, pending=needs_acceptance(actor)
    )


def enroll_student(
    actor: User,
    cohort: Cohort,
    student: User,
    now: datetime,
    *,
    student_number: str | None = None,
    check_ready: bool = True,
) -> Enrollment:
    """Enrol (or re-enrol) a student account at once, keeping the history; ``check_ready=
    False`` skips the readiness check for an account just created (it has no facts yet).

    No acceptance is asked: the caller vouches for the student's place (an account it has
    just invited to this cohort, the school's LMS course roster, an admin, the demo). An
    instructor adding someone else's account goes through ``enroll_by_email`` or
    ``invite_to_cohort``."""
    return _enroll(
        actor, cohort, student, now, student_number=student_number, check_ready=check_ready
    )


def invite_to_cohort(
    actor: User,
    cohort: Cohort,
    student: User,
    now: datetime,
    *,
    student_number: str | None = None,
) -> Enrollment:
    """Add an existing account: at once for an admin, otherwise pending the student's
    acceptance (the roster import's rows that name an account)."""
    return _enroll(
        actor, cohort, student, now, student_number=student_number, pending=needs_acceptance(actor)
    )


# --- the student's answer ---------------------------------------------------------------


@dataclass(frozen=True)
class PendingPlace:
    """A place in a cohort waiting for the student's answer, and who offered it."""

    enrollment: Enrollment
    cohort: Cohort
    invited_by: str  # the name of the instructor who asked
    invited_at: datetime


def pending_places(student: User) -> list[PendingPlace]:
    """The places the student has been offered and not answered yet, oldest first (two
    queries)."""
    waiting = list(
        db.session.scalars(
            select(Enrollment)
            .where(
                Enrollment.student_id == student.id,
                Enrollment.status == EnrollmentStatus.PENDING,
            )
            .options(selectinload(Enrollment.cohort).selectinload(Cohort.credential))
            .order_by(Enrollment.enrolled_at, Enrollment.id)
        )
    )
    if not waiting:
        return []
    asked_by: dict[int, str] = {}
    for event in db.session.scalars(
        select(EnrollmentEvent)
        .where(
            EnrollmentEvent.enrollment_id.in_([e.id for e in waiting]),
            EnrollmentEvent.kind == EnrollmentEventKind.INVITED,
        )
        .options(selectinload(EnrollmentEvent.actor))
        .order_by(EnrollmentEvent.id)
    ):
        asked_by[event.enrollment_id] = event.actor.full_name if event.actor else "Your school"
    return [
        PendingPlace(e, e.cohort, asked_by.get(e.id, "Your school"), e.enrolled_at) for e in waiting
    ]


def answer_place(student: User, enrollment_id: int, *, accept: bool, now: datetime) -> Enrollment:
    """The student accepts (the cohort's instructors then see their records) or declines a
    place an instructor offered. ``NotFound`` unless it is theirs and waiting; an archived
    cohort can only be declined."""
    enrollment = db.session.scalar(
        select(Enrollment)
        .where(Enrollment.id == enrollment_id, Enrollment.student_id == student.id)
        .options(selectinload(Enrollment.cohort).selectinload(Cohort.credential))
    )
    if enrollment is None or enrollment.status is not EnrollmentStatus.PENDING:
        raise NotFound("There is no invitation of yours to a cohort waiting for an answer.")
    cohort = enrollment.cohort
    if accept:
        _check_open(cohort)
        enrollment.status = EnrollmentStatus.ACTIVE
        enrollment.enrolled_at = now
        kind = EnrollmentEventKind.ACCEPTED
    else:
        enrollment.status = EnrollmentStatus.DECLINED
        kind = EnrollmentEventKind.DECLINED
    db.session.flush()
    _record(enrollment, kind, student, now)
    audit.record_event(
        f"enrollment.{kind.value}",
        actor=student,
        now=now,
        target_type="enrollment",
        target_id=enrollment.id,
        details={"cohort_id": cohort.id, "student_id": student.id},
    )
    if accept:
        credentials.issue_if_ready(student, [(cohort.credential, cohort.id)], now)
    return enrollment


def withdraw(
    actor: User, cohort: Cohort, student_id: int, reason: str, now: datetime
) -> EnrollmentStatus:
    """Withdraw a student from the cohort, or an invitation they have not answered; the
    enrolment and its history are kept. Returns the status it had."""
    enrollment = find_enrollment(cohort.id, student_id)
    if enrollment is None:
        raise NotFound("That student is not in this cohort.")
    if enrollment.status is EnrollmentStatus.DECLINED:
        raise Conflict(f"{enrollment.student.full_name} declined to join {cohort.name}.")
    if enrollment.status is EnrollmentStatus.WITHDRAWN:
        raise Conflict(f"{enrollment.student.full_name} is already withdrawn.")
    was = enrollment.status
    enrollment.status = EnrollmentStatus.WITHDRAWN
    db.session.flush()
    note = reason.strip() or ("invitation cancelled" if was is EnrollmentStatus.PENDING else None)
    _record(enrollment, EnrollmentEventKind.WITHDRAWN, actor, now, note)
    audit.record_event(
        "enrollment.withdrawn",
        actor=actor,
        now=now,
        target_type="enrollment",
        target_id=enrollment.id,
        details={
            "cohort_id": cohort.id,
            "student_id": student_id,
            "reason": reason.strip(),
            "was": was.value,
        },
    )
    return was


def move_student(
    actor: User, cohort: Cohort, student_id: int, target_cohort_id: int, now: datetime
) -> Enrollment:
    """Move a student to another cohort the actor teaches; completions are the student's, so
    they count there too. The student is the actor's already (active here), so no acceptance
    is asked."""
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
    """A SELECT of the ids of every student ever enrolled in a cohort (active or withdrawn,
    not those only asked to join), for filters."""
    return select(Enrollment.student_id).where(
        Enrollment.cohort_id == cohort_id,
        Enrollment.status.in_([EnrollmentStatus.ACTIVE, EnrollmentStatus.WITHDRAWN]),
    )
