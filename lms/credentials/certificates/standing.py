"""Finding certificates, and what their public verification tells anyone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased, selectinload

from lms.auth.models import User
from lms.credentials.certificates.codes import normalise_code
from lms.credentials.certificates.wording import Wording, certificate_wording
from lms.credentials.models import (
    Certificate,
    CertificateEventKind,
    CertificateStatus,
    Credential,
    RequirementSet,
    RevocationReason,
)
from lms.db import among
from lms.errors import NotFound
from lms.extensions import db


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


def certificate_exists(code: str) -> bool:
    """Whether a certificate has this canonical code (one query)."""
    return db.session.scalar(select(Certificate.id).where(Certificate.code == code)) is not None


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

    def wording(self, school: str) -> Wording:
        """What the certificate says, and that it is not the credential."""
        return certificate_wording(
            school,
            self.credential_code,
            self.credential_name,
            self.issuing_body,
            self.student_name,
        )

    def to_data(self, code: str, school: str) -> dict:
        """The JSON answer of ``/verify/<code>.json``: the facts, and what the certificate is
        and is not (``disclaimer``)."""
        words = self.wording(school)
        return {
            "code": code,
            "title": words.title,
            "disclaimer": words.disclaimer,
            "trademarks": words.attribution,
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
        # The public reason's words only: the instructor's note is private.
        reason=(
            (change.public_reason or RevocationReason.OTHER).label
            if change and status is CertificateStatus.REVOKED
            else None
        ),
        requirement_version=certificate.requirement_set.version,
    )


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
