"""Overrides: an instructor marks a requirement met or not met for a student, with a reason.

Each decision is a ledger entry that names the cohort it was made in: it counts in that
cohort's readiness only (``ledger.service.OverrideScope``); the readiness engine reads them
back as ``StudentFacts.overrides`` (see ``ledger.service.current_overrides``)."""

from __future__ import annotations

from datetime import datetime

from lms.auth.models import User
from lms.courses import reads as courses
from lms.credentials import rules as readiness_rules
from lms.credentials import service as credentials
from lms.enrollment.models import Cohort, Enrollment
from lms.enrollment.rules.cohorts import override_problems
from lms.errors import Conflict, InvalidInput, NotFound
from lms.ledger import audit
from lms.ledger import service as ledger
from lms.ledger.models import LedgerEntry, LedgerKind


def _leaf_keys(cohort: Cohort) -> dict[str, str]:
    """The override keys of the cohort's requirements, with a label for each."""
    requirement_set = credentials.current_requirement_set(cohort.credential)
    tree = readiness_rules.parse_requirements(requirement_set.tree)
    labels = {}
    for leaf in readiness_rules.leaves(tree):
        key = readiness_rules.leaf_key(leaf)
        if isinstance(leaf, readiness_rules.ModuleCompleted):
            labels[key] = leaf.module
        elif isinstance(leaf, readiness_rules.EvidenceVerified):
            labels[key] = readiness_rules.EVIDENCE_LABELS[leaf.kind]
        else:  # a score within N days, contact hours, a course, experience: its own title
            labels[key] = leaf.heading({})[1]
    return labels


def record_override(
    actor: User,
    cohort: Cohort,
    enrollment: Enrollment,
    *,
    key: str,
    met: bool | None,
    reason: str,
    now: datetime,
) -> LedgerEntry:
    """Mark a requirement met or not met for a student in this cohort (``met=None``
    withdraws the standing override), with a mandatory reason: it counts in this cohort's
    readiness only. The ledger keeps every entry. The caller has loaded the enrolment
    through a cohort the actor teaches."""
    if enrollment.cohort_id != cohort.id:
        raise NotFound("That student is not in this cohort.")
    student_id = enrollment.student_id
    reason = reason.strip()
    labels = _leaf_keys(cohort)
    problems = override_problems(key, reason, labels)
    if problems:
        raise InvalidInput(problems=problems)
    scope = ledger.OverrideScope(cohort.id, cohort.credential_id)
    standing = ledger.current_overrides([student_id], scope)[student_id]
    if met is None and key not in standing:
        raise Conflict(f"There is no override of {labels[key]} to reverse.")
    if met is not None and standing.get(key) is met:
        state = "met" if met else "not met"
        raise Conflict(f"{labels[key]} is already marked {state}.")
    module_id = None
    if not key.startswith("evidence:"):
        module = courses.modules_by_code([key]).get(key)
        module_id = module.id if module else None
    entry = ledger.append_entry(
        student=enrollment.student,
        kind=LedgerKind.OVERRIDE_REVOKED if met is None else LedgerKind.OVERRIDE_GRANTED,
        source="override",
        source_ref=key,
        met=met,
        module_id=module_id,
        credential_id=cohort.credential_id,
        cohort_id=cohort.id,
        actor=actor,
        now=now,
        note=reason,
    )
    audit.record_event(
        "override.revoked" if met is None else "override.granted",
        actor=actor,
        now=now,
        target_type="ledger_entry",
        target_id=entry.id,
        details={
            "student_id": student_id,
            "cohort_id": cohort.id,
            "key": key,
            "met": met,
            "reason": reason,
        },
    )
    return entry
