"""The student's dashboard: for each cohort they are in, their progress, what is missing, what
is due this week, their exam booking and their certificate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from lms.auth.models import User
from lms.courses.models import Module
from lms.credentials import rules
from lms.credentials import service as credentials
from lms.credentials.models import (
    Certificate,
    CertificateEvent,
    CertificateEventKind,
    CertificateStatus,
    Credential,
)
from lms.enrollment.enrollments import active_enrollments
from lms.enrollment.models import Cohort, Enrollment
from lms.enrollment.progress.plan import moved_dates, plan_items
from lms.enrollment.rules import plan as plan_rules


@dataclass(frozen=True)
class CredentialProgress:
    """A student's standing on the credential of one of their cohorts."""

    cohort: Cohort
    credential: Credential
    outcome: rules.Outcome | None  # None: the credential has no requirements yet
    modules: list[tuple[Module, rules.Outcome]]  # each required module and its verdict
    certificate: Certificate | None  # the newest of the current requirements, if any
    enrollment: Enrollment | None = None
    due: dict[str, date] = field(default_factory=dict)  # the student's own (late joiners')
    this_week: list[tuple[Module, date, bool]] = field(default_factory=list)  # overdue?
    certificate_status: CertificateStatus | None = None  # the certificate's standing now
    no_requirements: credentials.NoRequirements | None = None

    @property
    def revocation(self) -> CertificateEvent | None:
        """When and why the certificate was revoked (its public reason), if it was."""
        if self.certificate_status is not CertificateStatus.REVOKED:
            return None
        kinds = CertificateEventKind.REVOKED
        return next((e for e in self.certificate.events if e.kind is kinds), None)


def student_dashboard(student: User, now: datetime) -> list[CredentialProgress]:
    """For each cohort the student is in, as of ``now``: progress, what is missing, what is
    due this week, the exam booking and the certificate."""
    today = now.date()
    certificates = credentials.certificates_of([student.id])
    enrollments = active_enrollments(student)
    moved = moved_dates([e.cohort_id for e in enrollments])
    result = []
    for enrollment in enrollments:
        cohort = enrollment.cohort
        credential = cohort.credential
        try:
            # judged in this cohort: its overrides count here, no other cohort's
            readiness = credentials.evaluate_readiness(
                credential, [student.id], now, cohort_id=cohort.id
            )
        except credentials.NoRequirements as missing:
            result.append(
                CredentialProgress(
                    cohort, credential, None, [], None, enrollment, no_requirements=missing
                )
            )
            continue
        outcome = readiness.outcomes[student.id]
        # the newest certificate of the current requirements, whatever its standing: a
        # revoked or expired one is said so, never shown as valid
        certificate = next(
            (c for c in certificates if c.requirement_set_id == readiness.requirement_set.id), None
        )
        codes = [c for c in rules.module_codes(readiness.tree) if c in readiness.modules]
        plan = plan_items(cohort, {c: readiness.modules[c] for c in codes}, moved[cohort.id])
        due = plan_rules.own_due_dates(
            {item.code: item.due for item in plan if item.due is not None},
            cohort.start_date,
            enrollment.enrolled_at.date(),
            cohort.exam_date,
        )
        done = {
            leaf.requirement.module
            for leaf in outcome.leaf_outcomes()
            if leaf.met and isinstance(leaf.requirement, rules.ModuleCompleted)
        }
        result.append(
            CredentialProgress(
                cohort=cohort,
                credential=credential,
                outcome=outcome,
                modules=[
                    (readiness.modules[leaf.requirement.module], leaf)
                    for leaf in outcome.leaf_outcomes()
                    if isinstance(leaf.requirement, rules.ModuleCompleted)
                    and leaf.requirement.module in readiness.modules
                ],
                certificate=certificate,
                certificate_status=certificate.status_at(now) if certificate else None,
                enrollment=enrollment,
                due=due,
                this_week=[
                    (readiness.modules[code], due[code], due[code] < today)
                    for code in plan_rules.due_this_week(due, done, today)
                ],
            )
        )
    return result
