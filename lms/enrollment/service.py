"""The enrollment domain as other domains call it, and the receiver of the ledger's signal.

The use cases live by concern: ``cohorts`` (settings, co-instructors, join codes),
``enrollments`` (enrolling, joining by code, withdrawing, moving, who is enrolled) and
``access`` (the cohorts an actor teaches, and the students in them); the read models in
``progress``. The names other domains use are imported here, so they need not know where
each one lives.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from lms.auth.models import User
from lms.courses.authoring.service import Dependent
from lms.courses.models import Module
from lms.credentials import service as credentials
from lms.credentials.catalogue import credentials_naming_module
from lms.credentials.models import Certificate, Evidence, RevocationReason
from lms.enrollment.access import get_cohort_for, get_enrollment_for, may_revoke, teaches_student
from lms.enrollment.cohorts import add_instructor, cohorts_for, create_cohort, set_join
from lms.enrollment.enrollments import (
    active_enrollments,
    active_students,
    enroll_by_email,
    enroll_student,
    student_ids_select,
    withdraw_student,
)
from lms.enrollment.models import Cohort
from lms.enrollment.progress import readmodel
from lms.enrollment.progress.gradebook import active_student_ids, whole_gradebook
from lms.errors import NotFound, PermissionDenied
from lms.extensions import db
from lms.ledger.models import LedgerEntry, LedgerKind

__all__ = [
    "active_enrollments",
    "active_student_ids",
    "active_students",
    "add_instructor",
    "cohorts_for",
    "create_cohort",
    "decide_evidence",
    "enroll_by_email",
    "enroll_student",
    "get_cohort_for",
    "get_enrollment_for",
    "on_facts_changed",
    "on_ledger_appended",
    "revoke_certificate",
    "set_join",
    "student_ids_select",
    "teaches_student",
    "whole_gradebook",
    "withdraw_student",
]

# --- readiness signal and evidence ------------------------------------------------------


def module_dependents(module: Module, **_: object) -> list[Dependent]:
    """What relies on a module, for its editor (``courses.authoring``'s question): the
    credentials whose requirements name it, and the cohorts working towards them."""
    credentials_found = credentials_naming_module(module.code)
    found = [Dependent("credential", f"{c.code}: {c.name}") for c in credentials_found]
    if credentials_found:
        cohorts = db.session.scalars(
            select(Cohort)
            .where(
                Cohort.credential_id.in_([c.id for c in credentials_found]),
                Cohort.archived_at.is_(None),
            )
            .order_by(Cohort.name)
        )
        found += [Dependent("cohort", cohort.name) for cohort in cohorts]
    return found


def on_ledger_appended(entry: LedgerEntry, *, student: User, now: datetime, **_: object) -> None:
    """Recompute readiness when a fact changes, issue the certificates now earned, and bring
    the student's rows of the cohort pages up to date."""
    if entry.kind in (
        LedgerKind.MODULE_COMPLETED,
        LedgerKind.EVIDENCE_VERIFIED,
        LedgerKind.OVERRIDE_GRANTED,
        LedgerKind.OVERRIDE_REVOKED,
    ):
        cohorts = [(e.cohort.credential, e.cohort_id) for e in active_enrollments(student)]
        credentials.issue_if_ready(student, cohorts, now)
    if entry.kind in _CHANGES_PROGRESS:
        readmodel.refresh_students([student.id], now)


# What the cohort page's rows are judged on (a certificate is read when a row is shown).
_CHANGES_PROGRESS = frozenset(LedgerKind) - {
    LedgerKind.CERTIFICATE_ISSUED,
    LedgerKind.CERTIFICATE_REVOKED,
}


def on_facts_changed(
    _sender: object,
    *,
    now: datetime,
    student_ids: list[int] | None = None,
    credential_id: int | None = None,
    **_: object,
) -> None:
    """Facts changed without a ledger entry (see ``lms.ledger.service.facts_changed``): the
    students' rows, or every row judged against the credential, are judged again."""
    if credential_id is not None:
        readmodel.refresh_credential(credential_id, now)
    if student_ids:
        readmodel.refresh_students(student_ids, now)


def decide_evidence(
    actor: User, evidence_id: int, *, verified: bool, reason: str, now: datetime
) -> Evidence:
    """Verify or reject a student's evidence, if the actor teaches that student."""
    evidence = credentials.get_evidence(evidence_id)
    if not teaches_student(actor, evidence.student_id):
        raise NotFound("There is no such evidence among your students.")
    return credentials.decide_evidence(actor, evidence, verified=verified, reason=reason, now=now)


def revoke_certificate(
    actor: User,
    certificate: Certificate,
    public_reason: RevocationReason | str | None,
    note: str,
    now: datetime,
    *,
    cohort: Cohort | None = None,
) -> Certificate:
    """Revoke a certificate, if the actor may: an admin, or an instructor of an active cohort
    aimed at its credential in which its holder is actively enrolled (``cohort``: the one
    the page is about, which must be such a cohort). 403 otherwise."""
    if not may_revoke(actor, certificate, cohort):
        raise PermissionDenied(
            "Only an admin, or an instructor of an active cohort aimed at this credential "
            "in which its holder is enrolled, revokes a certificate."
        )
    return credentials.revoke_certificate(
        actor, certificate, public_reason, note, now, instructor_may=True
    )
