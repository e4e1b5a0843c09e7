"""One student's record in a cohort: their standing on each requirement and every override
that counts in that cohort."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lms.auth.models import User
from lms.credentials import rules
from lms.credentials import service as credentials
from lms.enrollment.models import Cohort, Enrollment
from lms.enrollment.progress.matrix import Cell, Column, cell_of, column_of
from lms.ledger import service as ledger


@dataclass(frozen=True)
class OverrideLine:
    """One override entry of the ledger, as shown on a student's record."""

    label: str
    action: str  # "Marked met", "Marked not met", "Reversed"
    reason: str
    actor_name: str
    recorded_at: datetime
    every_cohort: bool = False  # recorded before overrides named their cohort


@dataclass(frozen=True)
class StudentRecord:
    """A student's standing in one cohort: each requirement, overrides, and history."""

    student: User
    enrollment: Enrollment
    columns: list[Column]
    cells: list[Cell]
    progress: float
    ready: bool
    overrides: list[OverrideLine]
    # the credential has no requirements yet: nothing judged, the page says why
    no_requirements: credentials.NoRequirements | None = None


def student_record(cohort: Cohort, enrollment: Enrollment, now: datetime) -> StudentRecord:
    """One student's verdicts (as of ``now``) on the cohort's requirements and their override
    ledger."""
    student = enrollment.student
    try:
        readiness = credentials.evaluate_readiness(
            cohort.credential, [student.id], now, cohort_id=cohort.id
        )
    except credentials.NoRequirements as missing:
        outcome, columns, cells, no_requirements = None, [], [], missing
    else:
        outcome, no_requirements = readiness.outcomes[student.id], None
        titles = {code: module.title for code, module in readiness.modules.items()}
        columns = [column_of(leaf, titles, {}) for leaf in rules.leaves(readiness.tree)]
        cells = [
            cell_of(leaf, column.key)
            for leaf, column in zip(outcome.leaf_outcomes(), columns, strict=True)
        ]
    labels = {column.key: f"{column.label}: {column.title}" for column in columns}
    lines = []
    scope = ledger.OverrideScope(cohort.id, cohort.credential_id)
    for entry in ledger.override_entries([student.id], scope):
        if entry.kind.value == "override_revoked":
            action = "Reversed"
        elif entry.met:
            action = "Marked met"
        else:
            action = "Marked not met"
        lines.append(
            OverrideLine(
                label=labels.get(entry.source_ref or "", entry.source_ref or ""),
                action=action,
                reason=entry.note or "",
                actor_name=entry.actor.full_name if entry.actor else "the system",
                recorded_at=entry.recorded_at,
                every_cohort=entry.cohort_id is None,
            )
        )
    return StudentRecord(
        student=student,
        enrollment=enrollment,
        columns=columns,
        cells=cells,
        progress=outcome.progress if outcome else 0.0,
        ready=outcome.met if outcome else False,
        overrides=lines,
        no_requirements=no_requirements,
    )
