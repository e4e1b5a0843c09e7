"""Use cases for cohorts and enrolments, and the views of progress built on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from lms.auth.models import Role, User
from lms.courses.models import Module
from lms.credentials import rules
from lms.credentials import service as credentials
from lms.credentials.models import Certificate, Credential, Evidence, EvidenceStatus
from lms.enrollment.models import Cohort, Enrollment, EnrollmentStatus, cohort_instructor
from lms.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from lms.extensions import db
from lms.records import audit
from lms.records.models import LedgerEntry, LedgerKind

# --- cohorts -----------------------------------------------------------------------------


def create_cohort(
    actor: User,
    *,
    name: str,
    credential_id: int,
    start_date: date,
    exam_date: date | None,
    now: datetime,
) -> Cohort:
    """Create a cohort aimed at a credential; an instructor who creates it teaches it."""
    if actor.role not in (Role.INSTRUCTOR, Role.ADMIN):
        raise PermissionDenied("Only instructors and admins create cohorts.")
    name = name.strip()
    problems = []
    if not name:
        problems.append("Give the cohort a name.")
    if exam_date is not None and exam_date < start_date:
        problems.append("The exam date cannot be before the start date.")
    credential = credentials.get_credential(credential_id)
    if name and actor.is_instructor and _teaches_cohort_named(actor, name):
        problems.append(f"You already teach a cohort named “{name}”.")
    if problems:
        raise InvalidInput(" ".join(problems))
    cohort = Cohort(
        name=name,
        credential=credential,
        start_date=start_date,
        exam_date=exam_date,
        created_at=now,
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


def _teaches_cohort_named(actor: User, name: str) -> bool:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Cohort)
            .join(cohort_instructor, cohort_instructor.c.cohort_id == Cohort.id)
            .where(cohort_instructor.c.user_id == actor.id, func.lower(Cohort.name) == name.lower())
        )
        > 0
    )


def cohorts_for(actor: User) -> list[Cohort]:
    """The cohorts an instructor teaches (every cohort for an admin)."""
    query = (
        select(Cohort).options(selectinload(Cohort.credential)).order_by(Cohort.start_date.desc())
    )
    if not actor.is_admin:
        query = query.join(cohort_instructor).where(cohort_instructor.c.user_id == actor.id)
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


def enroll_by_email(actor: User, cohort: Cohort, email: str, now: datetime) -> Enrollment:
    """Enrol the student with this email in a cohort the actor teaches."""
    email = email.strip().lower()
    student = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if student is None or not student.is_student:
        raise InvalidInput(f"There is no student account with the email {email}.")
    enrollment = db.session.scalar(
        select(Enrollment)
        .where(Enrollment.cohort_id == cohort.id, Enrollment.student_id == student.id)
        .options(selectinload(Enrollment.student))
    )
    if enrollment is not None and enrollment.status is EnrollmentStatus.ACTIVE:
        raise Conflict(f"{student.full_name} is already enrolled in {cohort.name}.")
    if enrollment is None:
        enrollment = Enrollment(cohort=cohort, student=student, enrolled_at=now)
        db.session.add(enrollment)
    enrollment.status = EnrollmentStatus.ACTIVE
    db.session.flush()
    audit.record_event(
        "enrollment.added",
        actor=actor,
        now=now,
        target_type="enrollment",
        target_id=enrollment.id,
        details={"cohort_id": cohort.id, "student_id": student.id},
    )
    credentials.issue_if_ready(student, cohort.credential, now, cohort_id=cohort.id)
    return enrollment


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


def decide_evidence(
    actor: User, evidence_id: int, *, verified: bool, reason: str, now: datetime
) -> Evidence:
    """Verify or reject a student's evidence, if the actor teaches that student."""
    evidence = credentials.get_evidence(evidence_id)
    if not teaches_student(actor, evidence.student_id):
        raise NotFound("There is no such evidence among your students.")
    return credentials.decide_evidence(actor, evidence, verified=verified, reason=reason, now=now)


def on_ledger_appended(entry: LedgerEntry, *, student: User, now: datetime, **_: object) -> None:
    """Recompute readiness when a fact changes, and issue the certificates now earned."""
    if entry.kind not in (LedgerKind.MODULE_COMPLETED, LedgerKind.EVIDENCE_VERIFIED):
        return
    for enrollment in active_enrollments(student):
        credentials.issue_if_ready(
            student, enrollment.cohort.credential, now, cohort_id=enrollment.cohort_id
        )


# --- progress views ----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One requirement shown as a column of the cohort matrix."""

    key: str
    label: str
    title: str


@dataclass(frozen=True)
class Cell:
    """One student's standing on one requirement."""

    state: str  # done / in_progress / not_started
    score: float | None  # best score, for a module
    label: str  # shown when there is no score
    explanation: str


@dataclass(frozen=True)
class StudentRow:
    """One student's line of the cohort matrix."""

    student: User
    progress: float
    ready: bool
    cells: list[Cell]
    certificate: Certificate | None
    pending_evidence: list[Evidence]


@dataclass(frozen=True)
class CohortProgress:
    """A cohort's students judged against its credential, ready to render."""

    cohort: Cohort
    requirement_version: int
    columns: list[Column]
    rows: list[StudentRow]

    @property
    def ready_count(self) -> int:
        return sum(1 for row in self.rows if row.ready)

    @property
    def pending_evidence(self) -> list[Evidence]:
        return [evidence for row in self.rows for evidence in row.pending_evidence]


def cohort_progress(cohort: Cohort) -> CohortProgress:
    """The students x requirements matrix, in a fixed number of queries."""
    enrollments = list(
        db.session.scalars(
            select(Enrollment)
            .where(Enrollment.cohort_id == cohort.id, Enrollment.status == EnrollmentStatus.ACTIVE)
            .options(selectinload(Enrollment.student))
        )
    )
    students = sorted((e.student for e in enrollments), key=lambda s: s.full_name.lower())
    student_ids = [s.id for s in students]
    readiness = credentials.evaluate_readiness(cohort.credential, student_ids)
    columns = [_column(leaf, readiness) for leaf in rules.leaves(readiness.tree)]
    certificates: dict[int, Certificate] = {}
    for certificate in credentials.certificates_of(student_ids):
        if certificate.credential_id == cohort.credential_id:
            certificates.setdefault(certificate.student_id, certificate)
    pending: dict[int, list[Evidence]] = {sid: [] for sid in student_ids}
    for evidence in credentials.evidence_of(student_ids):
        if evidence.status is EvidenceStatus.SUBMITTED:
            pending[evidence.student_id].append(evidence)
    rows = []
    for student in students:
        outcome = readiness.outcomes[student.id]
        cells = [_cell(leaf) for leaf in outcome.leaf_outcomes()]
        rows.append(
            StudentRow(
                student=student,
                progress=outcome.progress,
                ready=outcome.met,
                cells=cells,
                certificate=certificates.get(student.id),
                pending_evidence=pending[student.id],
            )
        )
    return CohortProgress(cohort, readiness.requirement_set.version, columns, rows)


def _column(leaf: rules.Requirement, readiness) -> Column:
    titles = {code: module.title for code, module in readiness.modules.items()}
    key, label, title = rules.leaf_heading(leaf, titles)
    return Column(key=key, label=label, title=title)


def _cell(outcome: rules.Outcome) -> Cell:
    label = {"done": "Verified", "in_progress": "Pending"}.get(outcome.state.value, "—")
    return Cell(
        state=outcome.state.value,
        score=outcome.score,
        label=label,
        explanation=outcome.explanation,
    )


@dataclass(frozen=True)
class CredentialProgress:
    """A student's standing on the credential of one of their cohorts."""

    cohort: Cohort
    credential: Credential
    requirement_version: int
    outcome: rules.Outcome
    modules: list[tuple[Module, rules.Outcome]]  # each required module and its verdict
    certificate: Certificate | None


def student_dashboard(student: User) -> list[CredentialProgress]:
    """For each cohort the student is in: progress, what is missing, and the certificate."""
    certificates = credentials.certificates_of([student.id])
    result = []
    for enrollment in active_enrollments(student):
        credential = enrollment.cohort.credential
        readiness = credentials.evaluate_readiness(credential, [student.id])
        outcome = readiness.outcomes[student.id]
        certificate = next(
            (c for c in certificates if c.requirement_set_id == readiness.requirement_set.id), None
        )
        result.append(
            CredentialProgress(
                cohort=enrollment.cohort,
                credential=credential,
                requirement_version=readiness.requirement_set.version,
                outcome=outcome,
                modules=[
                    (readiness.modules[leaf.requirement.module], leaf)
                    for leaf in outcome.leaf_outcomes()
                    if isinstance(leaf.requirement, rules.ModuleCompleted)
                    and leaf.requirement.module in readiness.modules
                ],
                certificate=certificate,
            )
        )
    return result


def student_ids_select(cohort_id: int) -> Select:
    """A SELECT of the ids of every student ever enrolled in a cohort, for filters."""
    return select(Enrollment.student_id).where(Enrollment.cohort_id == cohort_id)


# --- withdrawal (added by issue 10 for LTI roster sync) -----------------------------------


def withdraw_student(actor: User, cohort: Cohort, student: User, now: datetime) -> Enrollment:
    """Withdraw a student from a cohort; the enrolment row stays, so its history is kept."""
    enrollment = db.session.scalar(
        select(Enrollment).where(
            Enrollment.cohort_id == cohort.id, Enrollment.student_id == student.id
        )
    )
    if enrollment is None or enrollment.status is not EnrollmentStatus.ACTIVE:
        raise Conflict(f"{student.full_name} is not enrolled in {cohort.name}.")
    enrollment.status = EnrollmentStatus.WITHDRAWN
    db.session.flush()
    audit.record_event(
        "enrollment.withdrawn",
        actor=actor,
        now=now,
        target_type="enrollment",
        target_id=enrollment.id,
        details={"cohort_id": cohort.id, "student_id": student.id},
    )
    return enrollment


def active_students(cohort: Cohort) -> list[User]:
    """The students enrolled in a cohort now, by name, in one query."""
    students = db.session.scalars(
        select(User)
        .join(Enrollment, Enrollment.student_id == User.id)
        .where(Enrollment.cohort_id == cohort.id, Enrollment.status == EnrollmentStatus.ACTIVE)
    )
    return sorted(students, key=lambda s: s.full_name.lower())
