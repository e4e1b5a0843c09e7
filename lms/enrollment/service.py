"""Use cases for cohorts, join codes and enrolments.

Next to it: ``progress.py`` (matrix, dashboard, plan, chart), ``roster.py`` (CSV import),
``invitations.py``, ``overrides.py`` and ``schedule.py`` (due dates, exam bookings). The
progress names other domains use are re-exported here.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from lms.auth import service as accounts
from lms.auth.models import Role, User
from lms.credentials import service as credentials
from lms.credentials.models import Evidence
from lms.enrollment import invitations, progress, rules
from lms.enrollment.models import (
    Cohort,
    Enrollment,
    EnrollmentEvent,
    EnrollmentEventKind,
    EnrollmentStatus,
    cohort_instructor,
)
from lms.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from lms.extensions import db
from lms.ledger import audit
from lms.ledger.models import LedgerEntry, LedgerKind

# Re-exported: callers elsewhere use these through this module.
cohort_progress = progress.cohort_progress
student_dashboard = progress.student_dashboard
active_enrollments = progress.active_enrollments

# --- cohorts -----------------------------------------------------------------------------


def create_cohort(
    actor: User,
    *,
    name: str,
    credential_id: int,
    start_date: date,
    exam_date: date | None,
    now: datetime,
    inactivity_days: int | None = None,
    failed_attempts_limit: int | None = None,
) -> Cohort:
    """Create a cohort aimed at a credential; an instructor who creates it teaches it."""
    if actor.role not in (Role.INSTRUCTOR, Role.ADMIN):
        raise PermissionDenied("Only instructors and admins create cohorts.")
    taken = _names_taught_by(actor) if actor.is_instructor else []
    problems = rules.cohort_problems(
        name=name, start_date=start_date, exam_date=exam_date, taken_names=taken
    )
    credential = credentials.get_credential(credential_id)
    if problems:
        raise InvalidInput(" ".join(problems))
    name = name.strip()
    cohort = Cohort(
        name=name,
        credential=credential,
        start_date=start_date,
        exam_date=exam_date,
        created_at=now,
        join_enabled=False,
        inactivity_days=inactivity_days,
        failed_attempts_limit=failed_attempts_limit,
    )
    if actor.is_instructor:
        cohort.instructors = [actor]
    db.session.add(cohort)
    db.session.flush()
    audit.record_event(
        "cohort.created",
        actor=actor,
        now=now,
        target_type="cohort",
        target_id=cohort.id,
        details={"name": name, "credential": credential.code},
    )
    return cohort


def _names_taught_by(actor: User, *, except_id: int | None = None) -> list[str]:
    query = (
        select(Cohort.name)
        .join(cohort_instructor, cohort_instructor.c.cohort_id == Cohort.id)
        .where(cohort_instructor.c.user_id == actor.id)
    )
    if except_id is not None:
        query = query.where(Cohort.id != except_id)
    return list(db.session.scalars(query))


def update_cohort(
    actor: User,
    cohort: Cohort,
    *,
    name: str,
    credential_id: int,
    start_date: date,
    exam_date: date | None,
    inactivity_days: int | None,
    failed_attempts_limit: int | None,
    now: datetime,
) -> Cohort:
    """Change a cohort's name, credential, dates or at-risk policy."""
    # Duplicate names are judged against the cohorts of every instructor of this cohort.
    taken = [
        taken_name
        for instructor in cohort.instructors
        for taken_name in _names_taught_by(instructor, except_id=cohort.id)
    ]
    problems = rules.cohort_problems(
        name=name, start_date=start_date, exam_date=exam_date, taken_names=taken
    )
    if problems:
        raise InvalidInput(" ".join(problems))
    credential = credentials.get_credential(credential_id)
    before = {
        "name": cohort.name,
        "credential": cohort.credential.code,
        "start_date": cohort.start_date.isoformat(),
        "exam_date": cohort.exam_date.isoformat() if cohort.exam_date else None,
    }
    cohort.name = name.strip()
    cohort.credential = credential
    cohort.start_date = start_date
    cohort.exam_date = exam_date
    cohort.inactivity_days = inactivity_days
    cohort.failed_attempts_limit = failed_attempts_limit
    db.session.flush()
    audit.record_event(
        "cohort.updated",
        actor=actor,
        now=now,
        target_type="cohort",
        target_id=cohort.id,
        details={"before": before, "name": cohort.name, "credential": credential.code},
    )
    return cohort


def set_archived(actor: User, cohort: Cohort, archived: bool, now: datetime) -> Cohort:
    """Archive a cohort (its join code stops working) or bring it back."""
    if archived == cohort.is_archived:
        raise Conflict(f"{cohort.name} is already {'archived' if archived else 'active'}.")
    cohort.archived_at = now if archived else None
    if archived:
        cohort.join_enabled = False
    db.session.flush()
    audit.record_event(
        "cohort.archived" if archived else "cohort.restored",
        actor=actor,
        now=now,
        target_type="cohort",
        target_id=cohort.id,
    )
    return cohort


def add_instructor(actor: User, cohort: Cohort, email: str, now: datetime) -> User:
    """Add a co-instructor by email; the account must be an instructor's."""
    person = accounts.find_user_by_email(email)
    if person is None or not person.is_instructor:
        raise InvalidInput(f"There is no instructor account with the email {email.strip()}.")
    if person in cohort.instructors:
        raise Conflict(f"{person.full_name} already teaches {cohort.name}.")
    if cohort.name.casefold() in {n.casefold() for n in _names_taught_by(person)}:
        raise Conflict(f"{person.full_name} already teaches a cohort named “{cohort.name}”.")
    cohort.instructors.append(person)
    db.session.flush()
    audit.record_event(
        "cohort.instructor_added",
        actor=actor,
        now=now,
        target_type="cohort",
        target_id=cohort.id,
        details={"user_id": person.id},
    )
    return person


def remove_instructor(actor: User, cohort: Cohort, user_id: int, now: datetime) -> User:
    """Remove a co-instructor; a cohort keeps at least one."""
    person = next((u for u in cohort.instructors if u.id == user_id), None)
    if person is None:
        raise NotFound("That person does not teach this cohort.")
    if len(cohort.instructors) == 1:
        raise Conflict("A cohort needs at least one instructor. Add another one first.")
    cohort.instructors.remove(person)
    db.session.flush()
    audit.record_event(
        "cohort.instructor_removed",
        actor=actor,
        now=now,
        target_type="cohort",
        target_id=cohort.id,
        details={"user_id": person.id},
    )
    return person


def cohorts_for(actor: User, *, include_archived: bool = True) -> list[Cohort]:
    """The cohorts an instructor teaches (every cohort for an admin)."""
    query = (
        select(Cohort).options(selectinload(Cohort.credential)).order_by(Cohort.start_date.desc())
    )
    if not actor.is_admin:
        query = query.join(cohort_instructor).where(cohort_instructor.c.user_id == actor.id)
    if not include_archived:
        query = query.where(Cohort.archived_at.is_(None))
    return list(db.session.scalars(query))


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


# --- join codes --------------------------------------------------------------------------


def _new_join_code() -> str:
    alphabet = rules.JOIN_CODE_ALPHABET
    return "".join(secrets.choice(alphabet) for _ in range(rules.JOIN_CODE_LENGTH))


def set_join(
    actor: User, cohort: Cohort, *, enabled: bool, now: datetime, new_code: bool = False
) -> Cohort:
    """Turn self-enrolment by join code on or off, or give the cohort a new code."""
    if enabled and cohort.is_archived:
        raise Conflict("An archived cohort cannot take new students. Restore it first.")
    if enabled and (cohort.join_code is None or new_code):
        cohort.join_code = _new_join_code()
    cohort.join_enabled = enabled
    db.session.flush()
    audit.record_event(
        "cohort.join_enabled" if enabled else "cohort.join_disabled",
        actor=actor,
        now=now,
        target_type="cohort",
        target_id=cohort.id,
        details={"new_code": bool(new_code and enabled)},
    )
    return cohort


def cohort_by_join_code(typed: str) -> Cohort:
    """The cohort a join code opens; ``NotFound`` or ``Conflict`` with a clear reason."""
    code = rules.normalise_join_code(typed)
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


def _find_enrollment(cohort_id: int, student_id: int) -> Enrollment | None:
    return db.session.scalar(
        select(Enrollment)
        .where(Enrollment.cohort_id == cohort_id, Enrollment.student_id == student_id)
        .options(selectinload(Enrollment.student))
    )


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
    if cohort.is_archived:
        raise Conflict(f"{cohort.name} is archived and takes no new students.")
    enrollment = _find_enrollment(cohort.id, student.id)
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
    address = email.strip().lower()
    student = accounts.find_user_by_email(address)
    if student is None and full_name and full_name.strip():
        student, _ = invitations.invite_student(actor, address, full_name, now)
    elif student is None or not student.is_student:
        hint = "" if student is not None else " Give their name to invite them."
        raise InvalidInput(f"There is no student account with the email {address}.{hint}")
    return _enroll(actor, cohort, student, now, student_number=student_number)


def find_student(email: str) -> User | None:
    """The account with this email, if any (of any role)."""
    return accounts.find_user_by_email(email)


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
    enrollment = _find_enrollment(cohort.id, student_id)
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
    enrollment = _find_enrollment(cohort.id, student_id)
    if enrollment is None or enrollment.status is not EnrollmentStatus.ACTIVE:
        raise NotFound("That student is not active in this cohort.")
    target = get_cohort_for(actor, target_cohort_id)
    if target.id == cohort.id:
        raise InvalidInput("Choose a different cohort to move the student to.")
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


def get_enrollment_for(actor: User, cohort: Cohort, student_id: int) -> Enrollment:
    """The enrolment (any status) of a student in a cohort the actor teaches, or 404."""
    enrollment = _find_enrollment(cohort.id, student_id)
    if enrollment is None:
        raise NotFound("That student is not in this cohort.")
    return enrollment


def enrollment_history(student_id: int, cohort_ids: list[int] | None = None) -> list:
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


def student_ids_select(cohort_id: int) -> Select:
    """A SELECT of the ids of every student ever enrolled in a cohort, for filters."""
    return select(Enrollment.student_id).where(Enrollment.cohort_id == cohort_id)


# --- readiness signal and evidence ------------------------------------------------------


def on_ledger_appended(entry: LedgerEntry, *, student: User, now: datetime, **_: object) -> None:
    """Recompute readiness when a fact changes, and issue the certificates now earned."""
    if entry.kind not in (
        LedgerKind.MODULE_COMPLETED,
        LedgerKind.EVIDENCE_VERIFIED,
        LedgerKind.OVERRIDE_GRANTED,
        LedgerKind.OVERRIDE_REVOKED,
    ):
        return
    cohorts = [(e.cohort.credential, e.cohort_id) for e in active_enrollments(student)]
    credentials.issue_if_ready(student, cohorts, now)


def decide_evidence(
    actor: User, evidence_id: int, *, verified: bool, reason: str, now: datetime
) -> Evidence:
    """Verify or reject a student's evidence, if the actor teaches that student."""
    evidence = credentials.get_evidence(evidence_id)
    if not teaches_student(actor, evidence.student_id):
        raise NotFound("There is no such evidence among your students.")
    return credentials.decide_evidence(actor, evidence, verified=verified, reason=reason, now=now)


def withdraw_student(actor: User, cohort: Cohort, student: User, now: datetime) -> None:
    """Withdraw a student who left the school's LMS course (LTI roster sync); ``Conflict``
    when they are not actively enrolled."""
    try:
        withdraw(actor, cohort, student.id, "Dropped from the LMS course roster", now)
    except NotFound as error:
        raise Conflict(f"{student.full_name} is not enrolled in {cohort.name}.") from error


def active_students(cohort: Cohort) -> list[User]:
    """The students enrolled in a cohort now, by name, in one query."""
    students = db.session.scalars(
        select(User)
        .join(Enrollment, Enrollment.student_id == User.id)
        .where(Enrollment.cohort_id == cohort.id, Enrollment.status == EnrollmentStatus.ACTIVE)
    )
    return sorted(students, key=lambda s: s.full_name.lower())
