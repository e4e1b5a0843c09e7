"""Credentials with versioned requirements, students' evidence, and certificates."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
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

    student: Mapped[User] = relationship(foreign_keys=[student_id], lazy="raise")


class CertificateStatus(StrEnum):
    """A certificate's standing, as shown on its verification page."""

    ISSUED = "issued"
    REVOKED = "revoked"


class Certificate(db.Model):
    """A readiness certificate: proof that a student met every requirement of a credential."""

    __tablename__ = "certificate"
    __table_args__ = (UniqueConstraint("student_id", "requirement_set_id"),)

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

    student: Mapped[User] = relationship(foreign_keys=[student_id], lazy="raise")
    credential: Mapped[Credential] = relationship(lazy="raise")
    requirement_set: Mapped[RequirementSet] = relationship(lazy="raise")
