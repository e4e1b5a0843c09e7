"""Eligibility evidence: a student records it (optionally with a scan), the school verifies
or rejects it, and reviewers list it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from lms import links
from lms.auth import notices as in_app
from lms.auth.models import Role, User
from lms.credentials import files, rules
from lms.credentials.models import Evidence, EvidenceStatus
from lms.db import among
from lms.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Problem
from lms.extensions import db
from lms.ledger import audit
from lms.ledger import service as ledger
from lms.ledger.models import LedgerKind
from lms.mail import notices


@dataclass(frozen=True)
class Upload:
    """A file a student sent with evidence: its bytes and the name it had."""

    content: bytes
    filename: str


def _evidence_problems(
    kind: rules.EvidenceKind,
    detail: str,
    employer: str | None,
    started_on: date | None,
    ended_on: date | None,
    upload: Upload | None,
    storage: Path | None,
    today: date,
) -> list[Problem]:
    """Every problem with a piece of evidence, each on the evidence form's field."""
    problems = []
    if not detail:
        problems.append(
            Problem("Say what the evidence is, e.g. the school and year of the diploma.", "detail")
        )
    if kind is rules.EvidenceKind.EXPERIENCE:
        if not employer:
            problems.append(Problem("Name the employer.", "employer"))
        if started_on is None or ended_on is None:
            missing = "started_on" if started_on is None else "ended_on"
            problems.append(Problem("Give the first and last day of the work.", missing))
        elif ended_on < started_on:
            problems.append(Problem("The last day cannot be before the first.", "ended_on"))
        elif ended_on > today:
            problems.append(
                Problem(
                    "The last day cannot be in the future; give today's date instead.", "ended_on"
                )
            )
    if upload is not None:
        try:
            files.check_upload(upload.content, upload.filename)
        except files.FileRefused as error:
            problems.append(Problem(str(error), "document"))
        if storage is None:
            problems.append(Problem("Files cannot be stored here.", "document"))
    return problems


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
    employer = (employer or "").strip() or None
    if kind is not rules.EvidenceKind.EXPERIENCE:
        started_on = ended_on = None  # dates only mean something for experience
    problems = _evidence_problems(
        kind, detail, employer, started_on, ended_on, upload, storage, now.date()
    )
    if problems:
        raise InvalidInput(problems=problems)
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
    if upload is not None and storage is not None:
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
    file_name: str | None  # the uploaded scan, when there is one


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
            Evidence.file_name,
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
        raise InvalidInput("Give the student a reason for the rejection.", field="reason")
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
    label = rules.EVIDENCE_LABELS.get(evidence.kind, "evidence")
    text = (
        f"Your evidence ({label}) was verified."
        if verified
        else f"Your evidence ({label}) was not accepted: {reason}"
    )
    in_app.notify(
        [evidence.student_id],
        "evidence.verified" if verified else "evidence.rejected",
        text,
        "/evidence",
        now,
    )
    _notify_decision(evidence, verified, reason, now)
    return evidence


def _notify_decision(evidence: Evidence, verified: bool, reason: str, now: datetime) -> None:
    """Mail the student the decision (unless they turned these notices off)."""
    student = evidence.student
    what = rules.EVIDENCE_LABELS.get(evidence.kind, evidence.kind.value)
    if verified:
        subject = "Your evidence was verified"
        news = f"Your evidence ({what}) was verified. It now counts towards your certificates."
    else:
        subject = "Your evidence was not accepted"
        news = (
            f"Your evidence ({what}) was not accepted. The reviewer wrote:\n\n{reason}\n\n"
            "You can submit it again, corrected."
        )
    link = links.external_url("evidence.evidence")
    notices.notify_many(
        "evidence_decided",
        [
            notices.Notice(
                user_id=student.id,
                email=student.email,
                subject=subject,
                body=f"Hello {student.full_name},\n\n{news}\n\nYour evidence: {link}\n",
                key=f"evidence:{evidence.id}:{evidence.status.value}",
            )
        ],
        now,
    )
