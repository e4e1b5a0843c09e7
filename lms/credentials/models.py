"""Credentials with versioned requirements, students' evidence, and certificates."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.auth.models import User
from lms.credentials.rules import EvidenceKind
from lms.db import UTCDateTime, enum_column
from lms.extensions import db


class Credential(db.Model):
    """An exam a student can prepare for, such as AAPC's CPC or AHIMA's CCA."""

    __tablename__ = "credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    issuing_body: Mapped[str] = mapped_column(String(200))
    exam_format: Mapped[str] = mapped_column(Text, default="")
    eligibility: Mapped[str] = mapped_column(Text, default="")
    source_url: Mapped[str] = mapped_column(String(500), default="")
    checked_on: Mapped[date | None]
    # high / medium / low (see the catalogue), or unverified when no public source confirms it
    confidence: Mapped[str] = mapped_column(String(20), default="unverified")
    notes: Mapped[str] = mapped_column(Text, default="")
    # How long a readiness certificate stays valid; None: it does not expire.
    validity_months: Mapped[int | None]
    # A requirement tree shown beside the requirements for information only (AAPC's
    # apprentice removal for CPC and COC), from the catalogue; it never decides readiness.
    information_path: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    @property
    def is_verified(self) -> bool:
        """True when the facts come from the certifying body's own pages or agree widely."""
        return self.confidence in ("high", "medium")

    @property
    def awarding_body_confirmed(self) -> bool:
        """Whether the catalogue confirms who awards this credential: some confidence above
        "unverified", and a source to check it against. No readiness certificate is issued
        for a credential whose awarding body is unconfirmed (issue 18 item 8): its words
        would name a body that may not award it."""
        return self.confidence != "unverified" and bool((self.source_url or "").strip())


class RequirementSet(db.Model):
    """One version of what a school requires before a student is ready for a credential."""

    __tablename__ = "requirement_set"
    __table_args__ = (UniqueConstraint("credential_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("credential.id"))
    version: Mapped[int]
    tree: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    credential: Mapped[Credential] = relationship(lazy="raise")


class EvidenceStatus(StrEnum):
    """Where a piece of evidence is in review."""

    SUBMITTED = "submitted"
    VERIFIED = "verified"
    REJECTED = "rejected"


class Evidence(db.Model):
    """A student's claim of eligibility (a diploma, experience ...), and its review."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[EvidenceKind] = mapped_column(enum_column(EvidenceKind, "evidence_kind"))
    detail: Mapped[str] = mapped_column(Text)
    status: Mapped[EvidenceStatus] = mapped_column(enum_column(EvidenceStatus, "evidence_status"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # experience: where and when (months are derived from the dates)
    employer: Mapped[str | None] = mapped_column(String(200))
    started_on: Mapped[date | None]
    ended_on: Mapped[date | None]
    # an uploaded scan, stored under instance/evidence/ by a random name, never served publicly
    file_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_type: Mapped[str | None] = mapped_column(String(40))
    file_size: Mapped[int | None]

    student: Mapped[User] = relationship(foreign_keys=[student_id], lazy="raise")


class CertificateStatus(StrEnum):
    """A certificate's standing, as shown on its verification page."""

    ISSUED = "issued"
    REVOKED = "revoked"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


class Certificate(db.Model):
    """A readiness certificate: proof that a student met every requirement of a credential."""

    __tablename__ = "certificate"
    # At most one valid certificate per student and requirement version (two issues at the
    # same moment make one); a revoked or superseded one leaves room to issue again.
    __table_args__ = (
        Index(
            "uq_certificate_one_issued",
            "student_id",
            "requirement_set_id",
            unique=True,
            sqlite_where=text("status = 'issued'"),
            postgresql_where=text("status = 'issued'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("credential.id"))
    requirement_set_id: Mapped[int] = mapped_column(ForeignKey("requirement_set.id"))
    status: Mapped[CertificateStatus] = mapped_column(
        enum_column(CertificateStatus, "certificate_status")
    )
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The facts the certificate was issued on, frozen at issue time.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Fixed at issue from the credential's validity period; None: it does not expire.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    student: Mapped[User] = relationship(foreign_keys=[student_id], lazy="raise")
    credential: Mapped[Credential] = relationship(lazy="raise")
    requirement_set: Mapped[RequirementSet] = relationship(lazy="raise")
    events: Mapped[list[CertificateEvent]] = relationship(
        foreign_keys="CertificateEvent.certificate_id",
        order_by="CertificateEvent.id",
        lazy="raise",
        viewonly=True,
    )

    def status_at(self, now: datetime) -> CertificateStatus:
        """The standing at ``now``: an issued certificate past its end date is expired."""
        if (
            self.status is CertificateStatus.ISSUED
            and self.expires_at is not None
            and self.expires_at <= now
        ):
            return CertificateStatus.EXPIRED
        return self.status


class CertificateEventKind(StrEnum):
    """What happened to a certificate."""

    ISSUED = "issued"
    REVOKED = "revoked"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


class RevocationReason(StrEnum):
    """Why a certificate was revoked, as the public verification page says it. What the
    instructor writes about it is a private note, for the school's records only."""

    ISSUED_IN_ERROR = "issued_in_error"
    REQUIREMENT_NOT_MET = "requirement_not_met"
    ACADEMIC_MISCONDUCT = "academic_misconduct"
    STUDENT_REQUEST = "student_request"
    OTHER = "other"

    @property
    def label(self) -> str:
        """The words the public page shows."""
        return REVOCATION_LABELS[self]


REVOCATION_LABELS = {
    RevocationReason.ISSUED_IN_ERROR: "Issued in error",
    RevocationReason.REQUIREMENT_NOT_MET: "A requirement was found not to be met",
    RevocationReason.ACADEMIC_MISCONDUCT: "Academic misconduct",
    RevocationReason.STUDENT_REQUEST: "Withdrawn at the student's request",
    RevocationReason.OTHER: "Withdrawn by the school",
}


class CertificateEvent(db.Model):
    """One change of a certificate's standing; rows are added, never changed or removed."""

    __tablename__ = "certificate_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    kind: Mapped[CertificateEventKind] = mapped_column(
        enum_column(CertificateEventKind, "certificate_event_kind")
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # A revocation's private note (never shown publicly) and its public reason.
    reason: Mapped[str | None] = mapped_column(Text)
    public_reason: Mapped[RevocationReason | None] = mapped_column(
        enum_column(RevocationReason, "revocation_reason")
    )
    # the certificate that replaced this one, for a superseded certificate
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))


class ExamOutcome(db.Model):
    """The result of a real certification exam, as reported after the student sat it."""

    __tablename__ = "exam_outcome"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("credential.id"))
    exam_date: Mapped[date]
    passed: Mapped[bool]
    score: Mapped[float | None] = mapped_column(Numeric(6, 2, asdecimal=False))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    credential: Mapped[Credential] = relationship(lazy="raise")


class CohortCertificatePolicy(db.Model):
    """Whether certificates of a cohort's students are issued automatically (no row: yes)."""

    __tablename__ = "cohort_certificate_policy"

    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), primary_key=True)
    auto_issue: Mapped[bool]
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


@event.listens_for(CertificateEvent, "before_update")
@event.listens_for(CertificateEvent, "before_delete")
def _refuse_changes(mapper: Any, connection: Any, target: Any) -> None:
    raise PermissionError("certificate_event rows are append-only")
