"""Use cases for credentials: readiness, evidence and certificates."""

from __future__ import annotations

import base64
import re
import secrets
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, contains_eager, selectinload

from lms.auth.models import Role, User
from lms.courses import reads as courses
from lms.courses.models import Module
from lms.credentials import files, rules
from lms.credentials.models import (
    Certificate,
    CertificateEvent,
    CertificateEventKind,
    CertificateStatus,
    CohortCertificatePolicy,
    Credential,
    Evidence,
    EvidenceStatus,
    RequirementSet,
)
from lms.db import among
from lms.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from lms.extensions import db
from lms.ledger import audit
from lms.ledger import service as ledger
from lms.ledger.models import LedgerKind

CODE_BYTES = 20  # 160 bits from the CSPRNG
CODE_GROUP = 4


# --- catalogue and requirement sets ------------------------------------------------------


def list_credentials() -> list[Credential]:
    """Every credential in the catalogue, by code."""
    return list(db.session.scalars(select(Credential).order_by(Credential.code)))


def get_credential(credential_id: int) -> Credential:
    """One credential, or ``NotFound``."""
    credential = db.session.get(Credential, credential_id)
    if credential is None:
        raise NotFound("There is no such credential.")
    return credential


def current_requirement_set(credential: Credential) -> RequirementSet:
    """The newest version of a credential's requirements."""
    requirement_set = db.session.scalar(
        select(RequirementSet)
        .where(RequirementSet.credential_id == credential.id)
        .order_by(RequirementSet.version.desc())
        .limit(1)
    )
    if requirement_set is None:
        raise Conflict(f"{credential.code} has no requirements yet.")
    return requirement_set


def save_requirements(
    credential: Credential, tree_data: object, actor: User | None, now: datetime
) -> RequirementSet:
    """Validate a requirement tree and store it as the credential's next version."""
    try:
        tree = rules.parse_requirements(tree_data)
    except rules.RequirementError as error:
        raise InvalidInput(
            "The requirements are not valid: " + "; ".join(error.problems)
        ) from error
    known = courses.modules_by_code(rules.module_codes(tree))
    unknown = [code for code in rules.module_codes(tree) if code not in known]
    if unknown:
        raise InvalidInput("The requirements name unknown modules: " + ", ".join(unknown) + ".")
    known_courses = courses.courses_by_code(rules.course_codes(tree))
    unknown = [code for code in rules.course_codes(tree) if code not in known_courses]
    if unknown:
        raise InvalidInput("The requirements name unknown courses: " + ", ".join(unknown) + ".")
    latest = db.session.scalar(
        select(RequirementSet.version)
        .where(RequirementSet.credential_id == credential.id)
        .order_by(RequirementSet.version.desc())
        .limit(1)
    )
    requirement_set = RequirementSet(
        credential_id=credential.id,
        version=(latest or 0) + 1,
        tree=rules.requirement_to_data(tree),
        created_at=now,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(requirement_set)
    db.session.flush()
    audit.record_event(
        "requirements.saved",
        actor=actor,
        now=now,
        target_type="credential",
        target_id=credential.id,
        details={"version": requirement_set.version},
    )
    return requirement_set


# --- readiness ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Readiness:
    """A credential's requirements judged for a group of students."""

    credential: Credential
    requirement_set: RequirementSet
    tree: rules.Requirement
    modules: dict[str, Module]  # by code, for the modules the tree names
    outcomes: dict[int, rules.Outcome]  # by student id


@dataclass(frozen=True)
class Judgement:
    """A credential's requirements judged for many students, verdicts only (met, progress,
    each leaf's state), with the facts they came from: ``outcome`` explains any one of them
    without another query."""

    credential: Credential
    requirement_set: RequirementSet
    tree: rules.Requirement
    modules: dict[str, Module]  # by code, for the modules the tree names
    titles: dict[str, str]  # module and course titles, for explanations
    facts: dict[int, rules.StudentFacts]  # by student id
    verdicts: dict[int, rules.Verdict]  # by student id

    def outcome(self, student_id: int) -> rules.Outcome:
        """The full result tree of one student, with every explanation."""
        return rules.evaluate(self.tree, self.facts[student_id], self.titles)


@dataclass(frozen=True)
class _Requirements:
    """A credential's current requirement tree and what it names, loaded once."""

    credential: Credential
    requirement_set: RequirementSet
    tree: rules.Requirement
    modules: dict[str, Module]
    course_modules: dict[str, tuple[str, dict[int, str]]]
    titles: dict[str, str]

    def facts(self, student_ids: list[int], now: datetime | None) -> dict[int, rules.StudentFacts]:
        leaves = rules.leaves(self.tree)
        return gather_facts(
            student_ids,
            self.modules,
            course_modules=self.course_modules,
            now=now,
            assessed=[leaf.module for leaf in leaves if isinstance(leaf, rules.AssessmentScore)],
            hour_courses=[
                leaf.course
                for leaf in leaves
                if isinstance(leaf, rules.ContactHours) and leaf.course is not None
            ],
        )


def _requirements(credential: Credential) -> _Requirements:
    requirement_set = current_requirement_set(credential)
    tree = rules.parse_requirements(requirement_set.tree)
    modules = courses.modules_by_code(rules.module_codes(tree))
    course_modules = courses.module_codes_of_courses(rules.course_codes(tree))
    titles = {code: module.title for code, module in modules.items()}
    titles.update({code: title for code, (title, _) in course_modules.items()})
    return _Requirements(credential, requirement_set, tree, modules, course_modules, titles)


def evaluate_readiness(
    credential: Credential, student_ids: Iterable[int], now: datetime | None = None
) -> Readiness:
    """Judge every student against the credential's current requirements in a fixed number
    of queries, however many students there are.

    ``now`` dates requirements "within the last N days"; callers that predate them may leave
    it out, and the current time is used."""
    required = _requirements(credential)
    student_ids = list(student_ids)
    facts = required.facts(student_ids, now)
    outcomes = {sid: rules.evaluate(required.tree, facts[sid], required.titles) for sid in facts}
    return Readiness(
        credential, required.requirement_set, required.tree, required.modules, outcomes
    )


def judge_readiness(
    credential: Credential, student_ids: Iterable[int], now: datetime | None = None
) -> Judgement:
    """Verdicts for every student against the credential's current requirements, in the same
    fixed number of queries as ``evaluate_readiness`` and a fraction of its time: what a
    cohort's counts, filters and sorts need. Explain a student with ``Judgement.outcome``."""
    return next(judge_readiness_in_batches(credential, student_ids, now, batch_size=None))


def judge_readiness_in_batches(
    credential: Credential,
    student_ids: Iterable[int],
    now: datetime | None = None,
    *,
    batch_size: int | None = 2000,
) -> Iterator[Judgement]:
    """``judge_readiness`` for any number of students, ``batch_size`` at a time (``None``: all
    at once): the requirements are loaded once, the facts per batch, so memory and the size
    of each query stay bounded. Yields one ``Judgement`` per batch (one, empty, for none)."""
    required = _requirements(credential)
    judge = rules.Judge(required.tree)
    student_ids = list(student_ids)
    size = batch_size or max(1, len(student_ids))
    for start in range(0, max(1, len(student_ids)), size):
        batch = student_ids[start : start + size]
        facts = required.facts(batch, now)
        yield Judgement(
            credential,
            required.requirement_set,
            required.tree,
            required.modules,
            required.titles,
            facts,
            {sid: judge(facts[sid]) for sid in batch},
        )


def information_outcomes(
    credential: Credential, student_ids: Iterable[int], now: datetime | None = None
) -> dict[int, rules.Outcome]:
    """The information-only path beside a credential (AAPC's apprentice removal for CPC and
    COC), judged for each student; empty when the credential has none. It never decides
    readiness."""
    tree = rules.information_path(credential.code)
    if tree is None:
        return {}
    student_ids = list(student_ids)
    facts = gather_facts(student_ids, {}, now=now)
    return {sid: rules.evaluate(tree, facts[sid], {}) for sid in student_ids}


def gather_facts(
    student_ids: list[int],
    modules: dict[str, Module],
    *,
    course_modules: dict[str, tuple[str, dict[int, str]]] | None = None,
    now: datetime | None = None,
    assessed: Iterable[str] | None = None,
    hour_courses: Iterable[str] | None = None,
) -> dict[int, rules.StudentFacts]:
    """The facts the readiness rules need, for many students at once (at most seven queries,
    whatever the number of students).

    ``assessed`` names the modules whose every scored attempt is needed (those of
    ``assessment_score`` leaves, which look at attempts within a window); for the others the
    best score is enough. ``hour_courses`` names the courses whose own contact hours are
    needed (those of ``contact_hours`` leaves; the total is always there). ``None`` means every
    module, every course."""
    course_modules = course_modules or {}
    code_of = {module.id: code for code, module in modules.items()}
    for _, members in course_modules.values():
        code_of.update(members)
    # Containers per student only where there is something to hold: empty ones for a
    # thousand students are garbage-collector work for nothing (see rules.ModuleFacts).
    # code -> (completed score, completed on, best attempt score), plain tuples
    module_rows: dict[int, dict[str, tuple]] = {}
    for student_id, module_id, best, first in ledger.stream_best_completions(student_ids, code_of):
        module_rows.setdefault(student_id, {})[code_of[module_id]] = (best, first, None)
    summary = courses.attempt_summary(student_ids, code_of)
    failed_attempts: dict[int, dict[str, int]] = {}
    for student_id, module_id, best, failed in summary.by_module:
        code, rows = code_of[module_id], module_rows.setdefault(student_id, {})
        known = rows.get(code)
        rows[code] = (None, None, best) if known is None else (known[0], known[1], best)
        if failed:
            failed_attempts.setdefault(student_id, {})[code] = failed
    attempts: dict[int, dict[str, list[rules.AttemptFact]]] = {}
    wanted = set(code_of.values() if assessed is None else assessed)
    assessed_ids = [module_id for module_id, code in code_of.items() if code in wanted]
    for student_id, module_id, score, submitted_at in courses.attempt_scores(
        student_ids, assessed_ids
    ):
        attempts.setdefault(student_id, {}).setdefault(code_of[module_id], []).append(
            rules.AttemptFact(score=score, on=submitted_at.date())
        )

    evidence: dict[int, dict[str, str]] = {}
    periods: dict[int, list[tuple[date, date]]] = {}
    pending: set[int] = set()
    if student_ids:
        rows = db.session.execute(
            select(
                Evidence.student_id,
                Evidence.kind,
                Evidence.status,
                Evidence.started_on,
                Evidence.ended_on,
            ).where(among(Evidence.student_id, student_ids))
        )
        rank = {EvidenceStatus.VERIFIED: 3, EvidenceStatus.SUBMITTED: 2, EvidenceStatus.REJECTED: 1}
        for student_id, kind, status, started_on, ended_on in rows:
            held = evidence.setdefault(student_id, {})
            current = held.get(kind.value)
            if current is None or rank[status] > rank[EvidenceStatus(current)]:
                held[kind.value] = status.value
            if kind is rules.EvidenceKind.EXPERIENCE:
                if status is EvidenceStatus.VERIFIED and started_on and ended_on:
                    periods.setdefault(student_id, []).append((started_on, ended_on))
                elif status is EvidenceStatus.SUBMITTED:
                    pending.add(student_id)

    def course_facts(known: rules.ModuleFacts) -> dict[str, rules.CourseFact]:
        result = {}
        for course_code, (_, members) in course_modules.items():
            dates = [
                known[code].completed_on
                for code in members.values()
                if code in known and known[code].completed_on is not None
            ]
            complete = bool(members) and len(dates) == len(members)
            result[course_code] = rules.CourseFact(
                modules_done=len(dates),
                modules_total=len(members),
                completed_on=max(dates) if complete else None,
            )
        return result

    as_of = (now or datetime.now(UTC)).date()
    hours = courses.contact_hours_facts(student_ids, hour_courses)
    overrides = ledger.current_overrides(student_ids)
    result = {}
    nothing = MappingProxyType({})  # shared by the students with nothing of a kind
    for sid in student_ids:
        known = rules.ModuleFacts(module_rows.get(sid, nothing))
        assessed_by = attempts.get(sid)
        result[sid] = rules.StudentFacts(
            modules=known,
            evidence=evidence.get(sid, nothing),
            courses=course_facts(known) if course_modules else nothing,
            attempts={c: tuple(a) for c, a in assessed_by.items()} if assessed_by else nothing,
            experience_months=rules.experience_months(periods[sid]) if sid in periods else 0,
            experience_pending=sid in pending,
            as_of=as_of,
            contact_hours=hours[sid],
            overrides=overrides[sid],
            failed_attempts=failed_attempts.get(sid, nothing),
            last_submission_at=summary.last_submitted.get(sid),
        )
    return result


# --- evidence ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file a student sent with evidence: its bytes and the name it had."""

    content: bytes
    filename: str


def submit_evidence(
    student: User,
    kind: rules.EvidenceKind,
    detail: str,
    now: datetime,
    *,
    employer: str | None = None,
    started_on: date | None = None,
    ended_on: date | None = None,
    upload: Upload | None = None,
    storage: Path | None = None,
) -> Evidence:
    """A student records eligibility evidence for the school to review, optionally with a
    scan (PDF, PNG or JPEG, at most 10 MB) kept under ``storage``."""
    if not student.is_student:
        raise PermissionDenied("Only students record their own evidence.")
    detail = detail.strip()
    problems = []
    if not detail:
        problems.append("Say what the evidence is, e.g. the school and year of the diploma.")
    employer = (employer or "").strip() or None
    if kind is rules.EvidenceKind.EXPERIENCE:
        if not employer:
            problems.append("Name the employer.")
        if started_on is None or ended_on is None:
            problems.append("Give the first and last day of the work.")
        elif ended_on < started_on:
            problems.append("The last day cannot be before the first.")
        elif ended_on > now.date():
            problems.append("The last day cannot be in the future; give today's date instead.")
    elif started_on or ended_on:
        started_on = ended_on = None  # dates only mean something for experience
    if upload is not None:
        try:
            files.check_upload(upload.content, upload.filename)
        except files.FileRefused as error:
            problems.append(str(error))
    if problems:
        raise InvalidInput(" ".join(problems))
    evidence = Evidence(
        student=student,
        kind=kind,
        detail=detail,
        status=EvidenceStatus.SUBMITTED,
        submitted_at=now,
        employer=employer if kind is rules.EvidenceKind.EXPERIENCE else None,
        started_on=started_on,
        ended_on=ended_on,
    )
    if upload is not None:
        if storage is None:
            raise InvalidInput("Files cannot be stored here.")
        stored = files.store(storage, upload.content, upload.filename)
        evidence.file_key, evidence.file_name = stored.key, stored.name
        evidence.file_type, evidence.file_size = stored.content_type, stored.size
    db.session.add(evidence)
    db.session.flush()
    note = f"{kind.value}: {detail}"
    if evidence.started_on and evidence.ended_on:
        months = rules.months_between(evidence.started_on, evidence.ended_on)
        note += f" ({employer}, {evidence.started_on} to {evidence.ended_on}, {months} months)"
    if evidence.file_key:
        note += f" [file {evidence.file_name}, {evidence.file_size} bytes]"
    ledger.append_entry(
        student=student,
        kind=LedgerKind.EVIDENCE_SUBMITTED,
        evidence_id=evidence.id,
        source="student",
        actor=student,
        now=now,
        note=note,
    )
    audit.record_event(
        "evidence.submitted",
        actor=student,
        now=now,
        target_type="evidence",
        target_id=evidence.id,
        details={"kind": kind.value, "file": bool(evidence.file_key)},
    )
    return evidence


def evidence_months(evidence: Evidence) -> int | None:
    """Whole months of a piece of experience evidence, or None for other kinds."""
    if evidence.started_on and evidence.ended_on:
        return rules.months_between(evidence.started_on, evidence.ended_on)
    return None


def evidence_of(student_ids: Iterable[int]) -> list[Evidence]:
    """All evidence of the given students, newest first."""
    student_ids = list(student_ids)
    if not student_ids:
        return []
    return list(
        db.session.scalars(
            select(Evidence)
            .join(Evidence.student)
            .where(Evidence.student_id.in_(student_ids))
            # with the evidence, in the same query: one query whether there is any or not
            .options(contains_eager(Evidence.student))
            .order_by(Evidence.submitted_at.desc(), Evidence.id.desc())
        )
    )


class PendingEvidence(NamedTuple):
    """A piece of evidence waiting for review, as a reviewer's list shows it."""

    id: int
    student_id: int
    student_name: str
    kind: rules.EvidenceKind
    detail: str
    submitted_at: datetime


def pending_evidence_of(student_ids: Iterable[int]) -> list[PendingEvidence]:
    """The given students' evidence waiting for review, with the student's name, newest
    first, in one query however many students there are."""
    student_ids = list(student_ids)
    if not student_ids:
        return []
    rows = db.session.execute(
        select(
            Evidence.id,
            Evidence.student_id,
            User.full_name,
            Evidence.kind,
            Evidence.detail,
            Evidence.submitted_at,
        )
        .join(User, User.id == Evidence.student_id)
        .where(among(Evidence.student_id, student_ids), Evidence.status == EvidenceStatus.SUBMITTED)
        .order_by(Evidence.submitted_at.desc(), Evidence.id.desc())
    )
    return [PendingEvidence(*row) for row in rows]


def get_evidence(evidence_id: int) -> Evidence:
    """One piece of evidence with its student, or ``NotFound``."""
    evidence = db.session.scalar(
        select(Evidence).where(Evidence.id == evidence_id).options(selectinload(Evidence.student))
    )
    if evidence is None:
        raise NotFound("There is no such evidence.")
    return evidence


def evidence_file(actor: User, evidence: Evidence, storage: Path, now: datetime) -> Path:
    """The stored file of a piece of evidence, for someone already allowed to see it; the
    download is audited."""
    if not evidence.file_key:
        raise NotFound("This evidence has no file.")
    path = files.path_of(storage, evidence.file_key)
    if not path.is_file():
        raise NotFound("The file of this evidence is missing from the server.")
    audit.record_event(
        "evidence.file_downloaded",
        actor=actor,
        now=now,
        target_type="evidence",
        target_id=evidence.id,
        details={"student_id": evidence.student_id},
    )
    return path


def decide_evidence(
    actor: User, evidence: Evidence, *, verified: bool, reason: str, now: datetime
) -> Evidence:
    """Verify or reject submitted evidence; the caller has checked the actor may review it."""
    if actor.role not in (Role.INSTRUCTOR, Role.ADMIN):
        raise PermissionDenied("Only instructors and admins review evidence.")
    if evidence.status is not EvidenceStatus.SUBMITTED:
        raise Conflict(f"This evidence was already {evidence.status.value}.")
    reason = reason.strip()
    if not verified and not reason:
        raise InvalidInput("Give the student a reason for the rejection.")
    evidence.status = EvidenceStatus.VERIFIED if verified else EvidenceStatus.REJECTED
    evidence.decided_at = now
    evidence.decided_by_id = actor.id
    evidence.decision_reason = reason or None
    db.session.flush()
    audit.record_event(
        "evidence.verified" if verified else "evidence.rejected",
        actor=actor,
        now=now,
        target_type="evidence",
        target_id=evidence.id,
        details={"student_id": evidence.student_id, "reason": reason},
    )
    ledger.append_entry(
        student=evidence.student,
        kind=LedgerKind.EVIDENCE_VERIFIED if verified else LedgerKind.EVIDENCE_REJECTED,
        evidence_id=evidence.id,
        source="review",
        actor=actor,
        now=now,
        note=reason or None,
    )
    return evidence


# --- certificates ------------------------------------------------------------------------


def new_certificate_code() -> str:
    """A public code of 160 random bits, in groups of four: ``ABCD-EFGH-...``."""
    raw = base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode()
    return "-".join(raw[i : i + CODE_GROUP] for i in range(0, len(raw), CODE_GROUP))


def normalise_code(code: str) -> str | None:
    """The canonical form of a typed or scanned code, or None if it cannot be one."""
    letters = re.sub(r"[\s-]", "", code).upper()
    if len(letters) != CODE_BYTES * 8 // 5 or not re.fullmatch(r"[A-Z2-7]+", letters):
        return None
    return "-".join(letters[i : i + CODE_GROUP] for i in range(0, len(letters), CODE_GROUP))


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` later (the last day of a shorter month)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


def certificate_snapshot(
    credential: Credential, requirement_set: RequirementSet, outcome: rules.Outcome
) -> dict:
    """The facts a certificate is issued on, frozen into it: the verdict on every requirement."""
    return {
        "credential": credential.code,
        "requirement_version": requirement_set.version,
        "outcome": outcome.to_data(),
    }


def issue_certificate(
    student: User, credential: Credential, actor: User | None, now: datetime
) -> Certificate:
    """Issue a readiness certificate; 409 if the student is not ready or already has one
    under the current requirements. Older certificates of the credential are superseded."""
    readiness = evaluate_readiness(credential, [student.id], now)
    outcome = readiness.outcomes[student.id]
    if not outcome.met:
        missing = "; ".join(leaf.explanation for leaf in outcome.unmet())
        raise Conflict(f"{student.full_name} is not ready for {credential.code}: {missing}.")
    if find_certificate(student.id, readiness.requirement_set.id) is not None:
        raise Conflict(
            f"{student.full_name} already has a {credential.code} certificate "
            f"for version {readiness.requirement_set.version} of its requirements."
        )
    certificate = Certificate(
        code=new_certificate_code(),
        student_id=student.id,
        credential_id=credential.id,
        requirement_set_id=readiness.requirement_set.id,
        status=CertificateStatus.ISSUED,
        issued_at=now,
        issued_by_id=actor.id if actor else None,
        expires_at=(
            add_months(now, credential.validity_months) if credential.validity_months else None
        ),
        snapshot=certificate_snapshot(credential, readiness.requirement_set, outcome),
    )
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
    except IntegrityError as error:  # issued at the same moment by another request
        raise Conflict(f"{student.full_name} already has this certificate.") from error
    db.session.add(
        CertificateEvent(
            certificate_id=certificate.id,
            kind=CertificateEventKind.ISSUED,
            occurred_at=now,
            actor_id=actor.id if actor else None,
        )
    )
    _supersede_older(certificate, actor, now)
    audit.record_event(
        "certificate.issued",
        actor=actor,
        now=now,
        target_type="certificate",
        target_id=certificate.id,
        details={
            "student_id": student.id,
            "credential": credential.code,
            "requirement_version": readiness.requirement_set.version,
        },
    )
    ledger.append_entry(
        student=student,
        kind=LedgerKind.CERTIFICATE_ISSUED,
        credential_id=credential.id,
        source="certificate",
        source_ref=f"certificate:{certificate.id}",
        actor=actor,
        now=now,
    )
    return certificate


def _supersede_older(certificate: Certificate, actor: User | None, now: datetime) -> None:
    """Mark the student's earlier issued certificates of the same credential superseded."""
    older = db.session.scalars(
        select(Certificate).where(
            Certificate.student_id == certificate.student_id,
            Certificate.credential_id == certificate.credential_id,
            Certificate.id != certificate.id,
            Certificate.status == CertificateStatus.ISSUED,
        )
    ).all()
    for previous in older:
        previous.status = CertificateStatus.SUPERSEDED
        db.session.add(
            CertificateEvent(
                certificate_id=previous.id,
                kind=CertificateEventKind.SUPERSEDED,
                occurred_at=now,
                actor_id=actor.id if actor else None,
                replaced_by_id=certificate.id,
            )
        )
    db.session.flush()


def issue_if_ready(
    student: User, credential: Credential, now: datetime, cohort_id: int | None = None
) -> Certificate | None:
    """Issue the certificate automatically when the student has just become ready (unless
    the cohort it is for has automatic issue turned off)."""
    if cohort_id is not None and not auto_issue_settings([cohort_id])[cohort_id]:
        return None
    readiness = evaluate_readiness(credential, [student.id], now)
    if not readiness.outcomes[student.id].met:
        return None
    if find_certificate(student.id, readiness.requirement_set.id) is not None:
        return None
    return issue_certificate(student, credential, None, now)


def issue_to_ready_students(
    actor: User, credential: Credential, students: Iterable[User], now: datetime
) -> list[Certificate]:
    """Issue the certificate to every given student who is ready and does not hold it under
    the current requirements; the others are left alone."""
    students = list(students)
    readiness = evaluate_readiness(credential, [s.id for s in students], now)
    held = {
        c.student_id
        for c in db.session.scalars(
            select(Certificate).where(
                Certificate.requirement_set_id == readiness.requirement_set.id,
                Certificate.student_id.in_([s.id for s in students] or [-1]),
            )
        )
    }
    issued = []
    for student in students:
        if readiness.outcomes[student.id].met and student.id not in held:
            issued.append(issue_certificate(student, credential, actor, now))
    return issued


def revoke_certificate(
    actor: User, certificate: Certificate, reason: str, now: datetime
) -> Certificate:
    """Revoke a certificate with a reason; 409 when it is already revoked or superseded."""
    if actor.role not in (Role.INSTRUCTOR, Role.ADMIN):
        raise PermissionDenied("Only instructors and admins revoke certificates.")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Give the reason for the revocation; the verification page shows it.")
    if len(reason) > 1000:
        raise InvalidInput("Keep the reason under 1000 characters.")
    if certificate.status is not CertificateStatus.ISSUED:
        raise Conflict(f"This certificate is already {certificate.status.value}.")
    certificate.status = CertificateStatus.REVOKED
    db.session.add(
        CertificateEvent(
            certificate_id=certificate.id,
            kind=CertificateEventKind.REVOKED,
            occurred_at=now,
            actor_id=actor.id,
            reason=reason,
        )
    )
    db.session.flush()
    audit.record_event(
        "certificate.revoked",
        actor=actor,
        now=now,
        target_type="certificate",
        target_id=certificate.id,
        details={"student_id": certificate.student_id, "reason": reason},
    )
    ledger.append_entry(
        student=db.session.get(User, certificate.student_id),
        kind=LedgerKind.CERTIFICATE_REVOKED,
        credential_id=certificate.credential_id,
        source="certificate",
        source_ref=f"certificate:{certificate.id}",
        actor=actor,
        now=now,
        note=reason,
    )
    return certificate


def find_certificate(student_id: int, requirement_set_id: int) -> Certificate | None:
    """The certificate a student holds under a requirement version, if any."""
    return db.session.scalar(
        select(Certificate).where(
            Certificate.student_id == student_id,
            Certificate.requirement_set_id == requirement_set_id,
        )
    )


def certificates_of(student_ids: Iterable[int]) -> list[Certificate]:
    """Every certificate of the given students, with credential and version, newest first."""
    student_ids = list(student_ids)
    if not student_ids:
        return []
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.student_id.in_(student_ids))
            .options(
                selectinload(Certificate.credential),
                selectinload(Certificate.requirement_set),
                selectinload(Certificate.events),
            )
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )


def latest_certificates(student_ids: Iterable[int], credential_id: int) -> dict[int, Certificate]:
    """Each given student's newest certificate of one credential (any status), in one query;
    only the certificate's own columns are loaded."""
    student_ids = list(student_ids)
    if not student_ids:
        return {}
    latest: dict[int, Certificate] = {}
    for certificate in db.session.scalars(
        select(Certificate)
        .where(
            among(Certificate.student_id, student_ids), Certificate.credential_id == credential_id
        )
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    ):
        latest.setdefault(certificate.student_id, certificate)
    return latest


# What a certificate page or answer shows: loaded with the certificate, in one go each.
_CERTIFICATE_DETAILS = (
    selectinload(Certificate.student),
    selectinload(Certificate.credential),
    selectinload(Certificate.requirement_set),
    selectinload(Certificate.events),
)


def get_certificate_by_code(code: str) -> Certificate:
    """The certificate with this public code, or ``NotFound``."""
    canonical = normalise_code(code)
    certificate = None
    if canonical is not None:
        certificate = db.session.scalar(
            select(Certificate).where(Certificate.code == canonical).options(*_CERTIFICATE_DETAILS)
        )
    if certificate is None:
        raise NotFound("No certificate has this code. Check it against the printed certificate.")
    return certificate


def get_certificate(certificate_id: int) -> Certificate:
    """One certificate with its student, credential and events, or ``NotFound``."""
    certificate = db.session.scalar(
        select(Certificate).where(Certificate.id == certificate_id).options(*_CERTIFICATE_DETAILS)
    )
    if certificate is None:
        raise NotFound("There is no such certificate.")
    return certificate


@dataclass(frozen=True)
class PublicStanding:
    """What the verification page and its JSON tell anyone: nothing more."""

    status: CertificateStatus
    student_name: str
    credential_code: str
    credential_name: str
    issuing_body: str
    issued_on: date
    expires_on: date | None
    changed_on: date | None  # when it was revoked or superseded
    reason: str | None  # why it was revoked
    requirement_version: int

    def to_data(self, code: str) -> dict:
        """The JSON answer of ``/verify/<code>.json``."""
        return {
            "code": code,
            "status": self.status.value,
            "valid": self.status is CertificateStatus.ISSUED,
            "student": self.student_name,
            "credential": {
                "code": self.credential_code,
                "name": self.credential_name,
                "issuing_body": self.issuing_body,
            },
            "issued_on": self.issued_on.isoformat(),
            "expires_on": self.expires_on.isoformat() if self.expires_on else None,
            "revoked_on": (
                self.changed_on.isoformat()
                if self.changed_on and self.status is CertificateStatus.REVOKED
                else None
            ),
            "revocation_reason": self.reason,
            "requirement_version": self.requirement_version,
        }


def public_standing(certificate: Certificate, now: datetime) -> PublicStanding:
    """The standing of a loaded certificate at ``now`` (expiry is judged at read time)."""
    status = certificate.status_at(now)
    change = next(
        (
            e
            for e in reversed(certificate.events)
            if e.kind in (CertificateEventKind.REVOKED, CertificateEventKind.SUPERSEDED)
        ),
        None,
    )
    return PublicStanding(
        status=status,
        student_name=certificate.student.full_name,
        credential_code=certificate.credential.code,
        credential_name=certificate.credential.name,
        issuing_body=certificate.credential.issuing_body,
        issued_on=certificate.issued_at.date(),
        expires_on=certificate.expires_at.date() if certificate.expires_at else None,
        changed_on=change.occurred_at.date() if change else None,
        reason=change.reason if change and status is CertificateStatus.REVOKED else None,
        requirement_version=certificate.requirement_set.version,
    )


# --- catalogue ---------------------------------------------------------------------------

CATALOG_FILE = Path(__file__).with_name("catalog.toml")
CONFIDENCE_LEVELS = ("high", "medium", "low", "unverified")
CATALOG_FIELDS = ("name", "issuing_body", "exam_format", "eligibility", "notes", "source_url")


def read_catalog(path: Path = CATALOG_FILE) -> list[dict]:
    """The credential entries of a catalogue file."""
    with path.open("rb") as handle:
        return tomllib.load(handle)["credential"]


def catalog_problems(entries: list[dict]) -> list[str]:
    """Every reason the catalogue entries cannot be loaded (empty when they can)."""
    problems, seen = [], set()
    for index, entry in enumerate(entries, start=1):
        code = entry.get("code")
        where = f"entry {index} ({code or 'no code'})"
        if not isinstance(code, str) or not code.strip() or len(code) > 20:
            problems.append(f"{where}: needs a code of at most 20 characters")
        elif code in seen:
            problems.append(f"{where}: the code appears twice")
        seen.add(code)
        for name in ("name", "issuing_body"):
            if not isinstance(entry.get(name), str) or not entry[name].strip():
                problems.append(f"{where}: needs {name}")
        confidence = entry.get("confidence", "unverified")
        if confidence not in CONFIDENCE_LEVELS:
            problems.append(f"{where}: confidence must be one of {', '.join(CONFIDENCE_LEVELS)}")
        checked = entry.get("checked_on")
        if checked is not None and not isinstance(checked, date):
            problems.append(f"{where}: checked_on must be a date such as 2026-11-01")
        months = entry.get("validity_months")
        if months is not None and (
            isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 120
        ):
            problems.append(f"{where}: validity_months must be a whole number from 1 to 120")
    return problems


@dataclass(frozen=True)
class CatalogSync:
    """What loading the catalogue did."""

    credentials: list[Credential]
    created: list[str]
    updated: list[str]


def apply_catalog(entries: list[dict], actor: User | None, now: datetime | None) -> CatalogSync:
    """Create or update credentials from catalogue entries, matched by code. Running it again
    changes nothing; each change is audited when ``now`` is given."""
    problems = catalog_problems(entries)
    if problems:
        raise InvalidInput("The catalogue cannot be loaded: " + "; ".join(problems) + ".")
    existing = {c.code: c for c in db.session.scalars(select(Credential))}
    result, created, updated = [], [], []
    for entry in entries:
        credential = existing.get(entry["code"])
        is_new = credential is None
        if credential is None:
            credential = Credential(code=entry["code"])
        values = {name: entry.get(name, "") for name in CATALOG_FIELDS}
        values["checked_on"] = entry.get("checked_on")
        values["confidence"] = entry.get("confidence", "unverified")
        values["validity_months"] = entry.get("validity_months")
        changed = [name for name, value in values.items() if getattr(credential, name) != value]
        for name in changed:
            setattr(credential, name, values[name])
        db.session.add(credential)
        result.append(credential)
        if is_new:
            created.append(credential.code)
        elif changed:
            updated.append(credential.code)
    db.session.flush()
    if now is not None and (created or updated):
        audit.record_event(
            "catalog.synced",
            actor=actor,
            now=now,
            target_type="credential",
            details={"created": created, "updated": updated},
        )
    return CatalogSync(result, created, updated)


def sync_catalog(entries: list[dict]) -> list[Credential]:
    """Create or update credentials from catalogue entries, matched by code (unaudited: for
    the demo data and tests; the command uses ``apply_catalog``)."""
    return apply_catalog(entries, None, None).credentials


def requirement_versions(credential: Credential) -> list[RequirementSet]:
    """Every version of a credential's requirements, newest first."""
    return list(
        db.session.scalars(
            select(RequirementSet)
            .where(RequirementSet.credential_id == credential.id)
            .order_by(RequirementSet.version.desc())
        )
    )


def auto_issue_settings(cohort_ids: Iterable[int]) -> dict[int, bool]:
    """Whether each cohort issues certificates automatically (the default), in one query."""
    cohort_ids = list(cohort_ids)
    result = dict.fromkeys(cohort_ids, True)
    if cohort_ids:
        rows = db.session.execute(
            select(CohortCertificatePolicy.cohort_id, CohortCertificatePolicy.auto_issue).where(
                CohortCertificatePolicy.cohort_id.in_(cohort_ids)
            )
        )
        result.update({cohort_id: enabled for cohort_id, enabled in rows})
    return result


def set_auto_issue(actor: User, cohort_id: int, enabled: bool, now: datetime) -> None:
    """Turn automatic issue on or off for a cohort the caller has checked the actor teaches."""
    policy = db.session.get(CohortCertificatePolicy, cohort_id)
    if policy is None:
        policy = CohortCertificatePolicy(cohort_id=cohort_id)
        db.session.add(policy)
    policy.auto_issue = enabled
    policy.changed_at = now
    policy.changed_by_id = actor.id
    db.session.flush()
    audit.record_event(
        "cohort.auto_issue_changed",
        actor=actor,
        now=now,
        target_type="cohort",
        target_id=cohort_id,
        details={"auto_issue": enabled},
    )


# --- reads for the records domain (certificate register, filters) ------------------------


def get_credential_by_code(code: str) -> Credential | None:
    """The credential with this code (any case), or None."""
    return db.session.scalar(select(Credential).where(Credential.code == code.strip().upper()))


def required_module_ids(credential: Credential) -> list[int]:
    """The ids of the modules named by the credential's current requirements (none if unset)."""
    requirement_set = db.session.scalar(
        select(RequirementSet)
        .where(RequirementSet.credential_id == credential.id)
        .order_by(RequirementSet.version.desc())
        .limit(1)
    )
    if requirement_set is None:
        return []
    tree = rules.parse_requirements(requirement_set.tree)
    return [module.id for module in courses.modules_by_code(rules.module_codes(tree)).values()]


def certificate_register_select():
    """A SELECT of every certificate ever issued, oldest first, with what a register shows:
    (id, code, student id, email, name, credential code, requirement version, issued at,
    issuer email, status). Callers add filters on ``Certificate`` columns and stream it."""
    student = aliased(User)
    issuer = aliased(User)
    return (
        select(
            Certificate.id,
            Certificate.code,
            Certificate.student_id,
            student.email,
            student.full_name,
            Credential.code,
            RequirementSet.version,
            Certificate.issued_at,
            issuer.email,
            Certificate.status,
        )
        .join(student, student.id == Certificate.student_id)
        .join(Credential, Credential.id == Certificate.credential_id)
        .join(RequirementSet, RequirementSet.id == Certificate.requirement_set_id)
        .outerjoin(issuer, issuer.id == Certificate.issued_by_id)
        .order_by(Certificate.id)
    )
