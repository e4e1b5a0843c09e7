"""Use cases for credentials: readiness, evidence and certificates."""

from __future__ import annotations

import base64
import re
import secrets
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from lms.auth.models import Role, User
from lms.courses import service as courses
from lms.courses.models import Module
from lms.credentials import rules
from lms.credentials.models import (
    Certificate,
    CertificateStatus,
    Credential,
    Evidence,
    EvidenceStatus,
    RequirementSet,
)
from lms.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from lms.extensions import db
from lms.records import audit
from lms.records import service as ledger
from lms.records.models import LedgerKind

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


def evaluate_readiness(credential: Credential, student_ids: Iterable[int]) -> Readiness:
    """Judge every student against the credential's current requirements in a fixed number
    of queries, however many students there are."""
    requirement_set = current_requirement_set(credential)
    tree = rules.parse_requirements(requirement_set.tree)
    modules = courses.modules_by_code(rules.module_codes(tree))
    student_ids = list(student_ids)
    facts = gather_facts(student_ids, modules)
    titles = {code: module.title for code, module in modules.items()}
    outcomes = {sid: rules.evaluate(tree, facts[sid], titles) for sid in student_ids}
    return Readiness(credential, requirement_set, tree, modules, outcomes)


def gather_facts(
    student_ids: list[int], modules: dict[str, Module]
) -> dict[int, rules.StudentFacts]:
    """The facts the readiness rules need, for many students at once (three queries)."""
    code_of = {module.id: code for code, module in modules.items()}
    completions: dict[int, dict[str, dict]] = {sid: {} for sid in student_ids}
    for done in ledger.best_completions(student_ids, code_of):
        completions[done.student_id].setdefault(code_of[done.module_id], {}).update(
            completed_score=done.best_score, completed_on=done.first_completed_on
        )
    for student_id, module_id, best in courses.best_attempt_scores(student_ids, code_of):
        completions[student_id].setdefault(code_of[module_id], {})["best_attempt_score"] = best

    evidence: dict[int, dict[str, str]] = {sid: {} for sid in student_ids}
    if student_ids:
        rows = db.session.execute(
            select(Evidence.student_id, Evidence.kind, Evidence.status).where(
                Evidence.student_id.in_(student_ids)
            )
        )
        rank = {EvidenceStatus.VERIFIED: 3, EvidenceStatus.SUBMITTED: 2, EvidenceStatus.REJECTED: 1}
        for student_id, kind, status in rows:
            current = evidence[student_id].get(kind.value)
            if current is None or rank[status] > rank[EvidenceStatus(current)]:
                evidence[student_id][kind.value] = status.value

    return {
        sid: rules.StudentFacts(
            modules={code: rules.ModuleFact(**fact) for code, fact in completions[sid].items()},
            evidence=evidence[sid],
        )
        for sid in student_ids
    }


# --- evidence ----------------------------------------------------------------------------


def submit_evidence(
    student: User, kind: rules.EvidenceKind, detail: str, now: datetime
) -> Evidence:
    """A student records eligibility evidence for the school to review."""
    if not student.is_student:
        raise PermissionDenied("Only students record their own evidence.")
    detail = detail.strip()
    if not detail:
        raise InvalidInput("Say what the evidence is, e.g. the school and year of the diploma.")
    evidence = Evidence(
        student=student,
        kind=kind,
        detail=detail,
        status=EvidenceStatus.SUBMITTED,
        submitted_at=now,
    )
    db.session.add(evidence)
    db.session.flush()
    ledger.append_entry(
        student=student,
        kind=LedgerKind.EVIDENCE_SUBMITTED,
        evidence_id=evidence.id,
        source="student",
        actor=student,
        now=now,
        note=f"{kind.value}: {detail}",
    )
    return evidence


def evidence_of(student_ids: Iterable[int]) -> list[Evidence]:
    """All evidence of the given students, newest first."""
    student_ids = list(student_ids)
    if not student_ids:
        return []
    return list(
        db.session.scalars(
            select(Evidence)
            .where(Evidence.student_id.in_(student_ids))
            .options(selectinload(Evidence.student))
            .order_by(Evidence.submitted_at.desc(), Evidence.id.desc())
        )
    )


def get_evidence(evidence_id: int) -> Evidence:
    """One piece of evidence with its student, or ``NotFound``."""
    evidence = db.session.scalar(
        select(Evidence).where(Evidence.id == evidence_id).options(selectinload(Evidence.student))
    )
    if evidence is None:
        raise NotFound("There is no such evidence.")
    return evidence


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


def issue_certificate(
    student: User, credential: Credential, actor: User | None, now: datetime
) -> Certificate:
    """Issue a readiness certificate; 409 if the student is not ready or already has one."""
    readiness = evaluate_readiness(credential, [student.id])
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
        snapshot={
            "credential": credential.code,
            "requirement_version": readiness.requirement_set.version,
            "outcome": outcome.to_data(),
        },
    )
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
    except IntegrityError as error:  # issued at the same moment by another request
        raise Conflict(f"{student.full_name} already has this certificate.") from error
    audit.record_event(
        "certificate.issued",
        actor=actor,
        now=now,
        target_type="certificate",
        target_id=certificate.id,
        details={"student_id": student.id, "credential": credential.code},
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


def issue_if_ready(student: User, credential: Credential, now: datetime) -> Certificate | None:
    """Issue the certificate automatically when the student has just become ready."""
    readiness = evaluate_readiness(credential, [student.id])
    if not readiness.outcomes[student.id].met:
        return None
    if find_certificate(student.id, readiness.requirement_set.id) is not None:
        return None
    return issue_certificate(student, credential, None, now)


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
                selectinload(Certificate.credential), selectinload(Certificate.requirement_set)
            )
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )


def get_certificate_by_code(code: str) -> Certificate:
    """The certificate with this public code, or ``NotFound``."""
    canonical = normalise_code(code)
    certificate = None
    if canonical is not None:
        certificate = db.session.scalar(
            select(Certificate)
            .where(Certificate.code == canonical)
            .options(
                selectinload(Certificate.student),
                selectinload(Certificate.credential),
                selectinload(Certificate.requirement_set),
            )
        )
    if certificate is None:
        raise NotFound("No certificate has this code. Check it against the printed certificate.")
    return certificate


CATALOG_FILE = Path(__file__).with_name("catalog.toml")


def read_catalog(path: Path = CATALOG_FILE) -> list[dict]:
    """The credential entries of a catalogue file."""
    with path.open("rb") as handle:
        return tomllib.load(handle)["credential"]


def sync_catalog(entries: list[dict]) -> list[Credential]:
    """Create or update credentials from catalogue entries, matched by code."""
    existing = {c.code: c for c in db.session.scalars(select(Credential))}
    result = []
    for entry in entries:
        credential = existing.get(entry["code"]) or Credential(code=entry["code"])
        for field in ("name", "issuing_body", "exam_format", "eligibility", "source_url"):
            setattr(credential, field, entry.get(field, ""))
        credential.checked_on = entry.get("checked_on")
        db.session.add(credential)
        result.append(credential)
    db.session.flush()
    return result


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
    # Imported here so that this addition stays at the end of the file (other branches edit
    # its top); aliased is needed to join user_account twice.
    from sqlalchemy.orm import aliased

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
