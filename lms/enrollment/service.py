"""Use cases for cohorts, enrolments, invitations, overrides and exam bookings.

The progress views (matrix, dashboard, plan, chart) live in ``progress.py`` and the roster
import in ``roster.py``; the names other domains use are re-exported here.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from lms.auth import service as accounts
from lms.auth.models import Role, User
from lms.auth.passwords import hash_password, password_problems
from lms.courses import service as courses
from lms.credentials import rules as readiness_rules
from lms.credentials import service as credentials
from lms.credentials.models import Evidence
from lms.enrollment import progress, rules
from lms.enrollment.models import (
    Cohort,
    Enrollment,
    EnrollmentEvent,
    EnrollmentEventKind,
    EnrollmentStatus,
    Invitation,
    PlannedDueDate,
    cohort_instructor,
)
from lms.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from lms.extensions import db
from lms.mail import send_mail
from lms.records import audit
from lms.records import service as ledger
from lms.records.models import LedgerEntry, LedgerKind

# Re-exported: callers elsewhere use these through this module.
cohort_progress = progress.cohort_progress
student_dashboard = progress.student_dashboard
active_enrollments = progress.active_enrollments

INVITATION_DAYS = 7

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
        credentials.issue_if_ready(student, cohort.credential, now)
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
        student, _ = invite_student(actor, address, full_name, now)
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


# --- invitations -------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_student(
    actor: User, email: str, full_name: str, now: datetime, *, send: bool = True
) -> tuple[User, str]:
    """Create a student account without a password and mail an invitation link to it."""
    student = accounts.create_user(
        email=email, full_name=full_name, role=Role.STUDENT, password=None, actor=actor, now=now
    )
    return student, _new_invitation(actor, student, now, send=send)


def resend_invitation(actor: User, cohort: Cohort, student_id: int, now: datetime) -> User:
    """Send a fresh invitation to a student of the cohort who has not set a password yet;
    earlier links stop working."""
    student = get_enrollment_for(actor, cohort, student_id).student
    if student.password_hash is not None:
        raise Conflict(f"{student.full_name} has already set a password.")
    for old in db.session.scalars(
        select(Invitation).where(Invitation.user_id == student.id, Invitation.used_at.is_(None))
    ):
        old.expires_at = min(old.expires_at, now)
    _new_invitation(actor, student, now)
    return student


def _new_invitation(actor: User, student: User, now: datetime, *, send: bool = True) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(
        Invitation(
            user_id=student.id,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=now + timedelta(days=INVITATION_DAYS),
            created_by_id=actor.id,
        )
    )
    db.session.flush()
    audit.record_event(
        "invitation.created",
        actor=actor,
        now=now,
        target_type="user",
        target_id=student.id,
        details={"email": student.email},
    )
    if send:
        send_invitation(student, token)
    return token


def send_invitation(student: User, token: str) -> None:
    """Mail the invitation link (through the console backend)."""
    # PUBLIC_BASE_URL, when set, keeps a forged Host header out of the link.
    base = current_app.config.get("PUBLIC_BASE_URL")
    path = url_for("enrollment.accept_invitation", token=token)
    link = (
        base.rstrip("/") + path
        if base
        else url_for("enrollment.accept_invitation", token=token, _external=True)
    )
    send_mail(
        student.email,
        "Your student account: set your password",
        f"Hello {student.full_name},\n\nYour school has created a student account for you. "
        f"Open this link within {INVITATION_DAYS} days to set your password:\n\n{link}\n",
    )


def find_invitation(token: str, now: datetime) -> Invitation:
    """The usable invitation for a token; ``NotFound`` if unknown, used or expired."""
    invitation = db.session.scalar(
        select(Invitation)
        .where(Invitation.token_hash == _token_hash(token))
        .options(selectinload(Invitation.user))
    )
    if invitation is None or invitation.used_at is not None:
        raise NotFound("This invitation link is not valid, or it was already used.")
    if invitation.expires_at <= now:
        raise NotFound("This invitation link has expired. Ask your instructor for a new one.")
    return invitation


def accept_invitation(token: str, password: str, confirm: str, now: datetime) -> User:
    """Set the invited person's password; the link then stops working."""
    invitation = find_invitation(token, now)
    problems = list(password_problems(password))
    if password != confirm:
        problems.append("The two passwords do not match.")
    if problems:
        raise InvalidInput(" ".join(problems))
    user = invitation.user
    user.password_hash = hash_password(password)
    invitation.used_at = now
    db.session.flush()
    audit.record_event(
        "invitation.accepted", actor=user, now=now, target_type="user", target_id=user.id
    )
    return user


# --- overrides ---------------------------------------------------------------------------


def _leaf_keys(cohort: Cohort) -> dict[str, str]:
    """The override keys of the cohort's requirements, with a label for each."""
    requirement_set = credentials.current_requirement_set(cohort.credential)
    tree = readiness_rules.parse_requirements(requirement_set.tree)
    labels = {}
    for leaf in readiness_rules.leaves(tree):
        key = readiness_rules.leaf_key(leaf)
        if isinstance(leaf, readiness_rules.ModuleCompleted):
            labels[key] = leaf.module
        else:
            labels[key] = readiness_rules.EVIDENCE_LABELS[leaf.kind]
    return labels


def record_override(
    actor: User,
    cohort: Cohort,
    student_id: int,
    *,
    key: str,
    met: bool | None,
    reason: str,
    now: datetime,
) -> LedgerEntry:
    """Mark a requirement met or not met for a student (``met=None`` withdraws the standing
    override), with a mandatory reason. The ledger keeps every entry."""
    enrollment = get_enrollment_for(actor, cohort, student_id)
    reason = reason.strip()
    labels = _leaf_keys(cohort)
    if key not in labels:
        raise InvalidInput("Choose one of the cohort's requirements.")
    if not reason:
        raise InvalidInput("Give the reason for the override; it is kept in the record.")
    standing = ledger.current_overrides([student_id])[student_id]
    if met is None and key not in standing:
        raise Conflict(f"There is no override of {labels[key]} to reverse.")
    if met is not None and standing.get(key) is met:
        state = "met" if met else "not met"
        raise Conflict(f"{labels[key]} is already marked {state}.")
    module_id = None
    if not key.startswith("evidence:"):
        module = courses.modules_by_code([key]).get(key)
        module_id = module.id if module else None
    entry = ledger.append_entry(
        student=enrollment.student,
        kind=LedgerKind.OVERRIDE_REVOKED if met is None else LedgerKind.OVERRIDE_GRANTED,
        source=(
            "override" if met is None else (ledger.OVERRIDE_MET if met else ledger.OVERRIDE_NOT_MET)
        ),
        source_ref=key,
        module_id=module_id,
        credential_id=cohort.credential_id,
        actor=actor,
        now=now,
        note=reason,
    )
    audit.record_event(
        "override.revoked" if met is None else "override.granted",
        actor=actor,
        now=now,
        target_type="ledger_entry",
        target_id=entry.id,
        details={"student_id": student_id, "key": key, "met": met, "reason": reason},
    )
    return entry


def on_ledger_appended(entry: LedgerEntry, *, student: User, now: datetime, **_: object) -> None:
    """Recompute readiness when a fact changes, and issue the certificates now earned."""
    if entry.kind not in (
        LedgerKind.MODULE_COMPLETED,
        LedgerKind.EVIDENCE_VERIFIED,
        LedgerKind.OVERRIDE_GRANTED,
        LedgerKind.OVERRIDE_REVOKED,
    ):
        return
    for enrollment in active_enrollments(student):
        credentials.issue_if_ready(student, enrollment.cohort.credential, now)


def decide_evidence(
    actor: User, evidence_id: int, *, verified: bool, reason: str, now: datetime
) -> Evidence:
    """Verify or reject a student's evidence, if the actor teaches that student."""
    evidence = credentials.get_evidence(evidence_id)
    if not teaches_student(actor, evidence.student_id):
        raise NotFound("There is no such evidence among your students.")
    return credentials.decide_evidence(actor, evidence, verified=verified, reason=reason, now=now)


# --- study plan and exams ----------------------------------------------------------------


def move_due_date(
    actor: User, cohort: Cohort, module_code: str, due_on: date, now: datetime
) -> PlannedDueDate:
    """Move one module's due date; it must fall between the start and the exam date."""
    plan = progress.study_plan(cohort)
    if module_code not in {item.code for item in plan}:
        raise InvalidInput("That module is not in this cohort's study plan.")
    if due_on < cohort.start_date or (cohort.exam_date and due_on > cohort.exam_date):
        raise InvalidInput("A due date must fall between the start date and the exam date.")
    moved = db.session.scalar(
        select(PlannedDueDate).where(
            PlannedDueDate.cohort_id == cohort.id, PlannedDueDate.module_code == module_code
        )
    )
    before = next(item.due for item in plan if item.code == module_code)
    if moved is None:
        moved = PlannedDueDate(cohort_id=cohort.id, module_code=module_code, due_on=due_on)
        db.session.add(moved)
    moved.due_on = due_on
    moved.moved_at = now
    moved.moved_by_id = actor.id
    db.session.flush()
    audit.record_event(
        "study_plan.moved",
        actor=actor,
        now=now,
        target_type="cohort",
        target_id=cohort.id,
        details={
            "module": module_code,
            "from": before.isoformat() if before else None,
            "to": due_on.isoformat(),
        },
    )
    return moved


def record_exam_booking(
    student: User,
    cohort_id: int,
    *,
    booked_on: date | None,
    employer_paid: bool,
    today: date,
    now: datetime,
) -> Enrollment:
    """A student records the exam date they booked (or clears it) and who pays the fee."""
    enrollment = _find_enrollment(cohort_id, student.id)
    if enrollment is None or enrollment.status is not EnrollmentStatus.ACTIVE:
        raise NotFound("You are not enrolled in that cohort.")
    if booked_on is not None and booked_on < today:
        raise InvalidInput("The exam date you booked cannot be in the past.")
    enrollment.exam_booked_on = booked_on
    enrollment.exam_fee_employer_paid = employer_paid if booked_on else False
    db.session.flush()
    audit.record_event(
        "exam.booked" if booked_on else "exam.cleared",
        actor=student,
        now=now,
        target_type="enrollment",
        target_id=enrollment.id,
        details={
            "booked_on": booked_on.isoformat() if booked_on else None,
            "employer_paid": enrollment.exam_fee_employer_paid,
        },
    )
    return enrollment
