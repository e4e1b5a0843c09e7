"""A cohort's certificates, as its page shows them: each student's readiness, their
certificates of the credential with their standing, and whether one may be issued now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from lms.auth.models import User
from lms.credentials.catalogue import NoRequirements
from lms.credentials.certificates.lifecycle import AwardingBodyUnconfirmed
from lms.credentials.certificates.standing import certificates_of
from lms.credentials.models import Certificate, CertificateStatus, Credential
from lms.credentials.readiness import evaluate_readiness
from lms.credentials.rules import Outcome


@dataclass(frozen=True)
class CertificateRow:
    """One student's line on the page."""

    student: User
    outcome: Outcome
    info: Outcome | None  # the information-only path (apprentice removal), if any
    certificates: list[tuple[Certificate, CertificateStatus]]  # newest first, standing now
    can_issue: bool  # ready, and holding no valid certificate of the current version
    issued_before: bool  # a certificate of this version was revoked, superseded or expired
    revoked_before: bool  # ...revoked: only this row's button issues it again, never in bulk
    unconfirmed: bool = False  # the credential's awarding body is unconfirmed: never issued

    @property
    def action(self) -> str:
        """What the page says in place of the issue button."""
        if self.can_issue:
            return "Issue again" if self.issued_before else "Issue"
        if self.unconfirmed and self.outcome.met:
            return "Ready: no certificate (awarding body unconfirmed)"
        return "Issued" if self.outcome.met else "Not ready"


@dataclass(frozen=True)
class CertificateRoster:
    """The page's rows and the requirement version they are judged on."""

    version: int
    rows: list[CertificateRow]
    # the credential has no requirements yet: nobody is judged, nothing can be issued
    no_requirements: NoRequirements | None = None
    # the catalogue does not confirm who awards the credential: readiness is shown, but no
    # certificate is issued, and the page says why in place of the issue buttons
    unconfirmed: AwardingBodyUnconfirmed | None = None

    @property
    def ready_to_issue(self) -> int:
        """How many students the "issue to every ready student" button would reach (not
        those whose certificate was revoked: they are issued again one by one)."""
        return sum(1 for row in self.rows if row.can_issue and not row.revoked_before)


def certificate_roster(
    credential: Credential, students: Sequence[User], now: datetime, *, cohort_id: int | None
) -> CertificateRoster:
    """The rows of a cohort's certificates page, judged in that cohort (``cohort_id``: its
    overrides count, no other's), in a fixed number of queries."""
    ids = [s.id for s in students]
    try:
        readiness = evaluate_readiness(credential, ids, now, cohort_id=cohort_id, information=True)
    except NoRequirements as missing:
        return CertificateRoster(0, [], no_requirements=missing)
    unconfirmed = (
        None if credential.awarding_body_confirmed else AwardingBodyUnconfirmed(credential)
    )
    version_id = readiness.requirement_set.id
    held: dict[int, list[tuple[Certificate, CertificateStatus]]] = {sid: [] for sid in ids}
    for certificate in certificates_of(ids):
        if certificate.credential_id == credential.id:
            held[certificate.student_id].append((certificate, certificate.status_at(now)))
    rows = []
    for student in students:
        mine = held[student.id]
        of_version = [status for c, status in mine if c.requirement_set_id == version_id]
        valid = CertificateStatus.ISSUED in of_version
        outcome = readiness.outcomes[student.id]
        rows.append(
            CertificateRow(
                student=student,
                outcome=outcome,
                info=readiness.information.get(student.id),
                certificates=mine,
                can_issue=outcome.met and not valid and unconfirmed is None,
                issued_before=bool(of_version) and not valid,
                revoked_before=CertificateStatus.REVOKED in of_version and not valid,
                unconfirmed=unconfirmed is not None,
            )
        )
    return CertificateRoster(readiness.requirement_set.version, rows, unconfirmed=unconfirmed)
