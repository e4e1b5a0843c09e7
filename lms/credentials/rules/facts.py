"""What the readiness engine knows of a student: the facts a requirement is judged against,
the kinds of eligibility evidence, and the arithmetic of months of experience."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple


class EvidenceKind(StrEnum):
    """Kinds of eligibility evidence a requirement can ask for."""

    HS_DIPLOMA_OR_GED = "hs_diploma_or_ged"
    EXPERIENCE = "experience"
    POSTSECONDARY_PROGRAM = "postsecondary_program"
    MEMBERSHIP = "membership"
    PRACTICODE = "practicode"
    PREP_COURSE_80_HOURS = "prep_course_80_hours"


EVIDENCE_LABELS = {
    EvidenceKind.HS_DIPLOMA_OR_GED: "high school diploma or GED",
    # AAPC counts on-the-job coding with the code sets, shown by an employer's letter on
    # letterhead (AAPC, Complete your CPC or COC apprenticeship): billing work does not count.
    EvidenceKind.EXPERIENCE: (
        "coding work experience (CPT, ICD-10-CM or HCPCS Level II), verified by an employer's "
        "letter"
    ),
    EvidenceKind.POSTSECONDARY_PROGRAM: "completed postsecondary billing or coding programme",
    EvidenceKind.MEMBERSHIP: "membership of the certifying body",
    EvidenceKind.PRACTICODE: "completion of AAPC's Practicode",
    EvidenceKind.PREP_COURSE_80_HOURS: "80 contact hours of a coding preparation course",
}


class ModuleFact(NamedTuple):
    """What is known of one student's work on one module."""

    completed_score: float | None = None  # best score among recorded completions
    completed_on: date | None = None
    best_attempt_score: float | None = None  # best quiz score, passed or not


class ModuleFacts(Mapping[str, ModuleFact]):
    """A student's facts by module code, kept as plain tuples and handed out as ``ModuleFact``.

    A cohort's facts hold one per student and module: 25,000 for 1,000 students. The garbage
    collector stops watching a plain tuple of numbers and dates after its first look, but never
    a named tuple or a dataclass, and so many watched objects made every page of such a cohort
    pay for two full collections (100 ms each)."""

    __slots__ = ("_rows",)

    def __init__(self, rows: Mapping[str, tuple[float | None, date | None, float | None]]) -> None:
        self._rows = rows

    def __getitem__(self, code: str) -> ModuleFact:
        return ModuleFact._make(self._rows[code])

    def get(self, code: str, default: ModuleFact | None = None) -> ModuleFact | None:
        """The facts of one module, or ``default`` when the student has none."""
        row = self._rows.get(code)
        return default if row is None else ModuleFact._make(row)

    def __contains__(self, code: object) -> bool:
        return code in self._rows

    def __iter__(self):
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"ModuleFacts({dict(self.items())!r})"


@dataclass(frozen=True, slots=True)
class CourseFact:
    """How much of one course a student has completed."""

    modules_done: int
    modules_total: int
    completed_on: date | None = None  # when the last module was completed, if all are


@dataclass(frozen=True, slots=True)
class AttemptFact:
    """One scored attempt at a module's assessment."""

    score: float
    on: date


@dataclass(frozen=True, slots=True)
class StudentFacts:
    """Everything the engine needs to know about one student."""

    modules: Mapping[str, ModuleFact] = field(default_factory=dict)
    # evidence kind -> "verified" / "submitted" / "rejected" (the best state reached)
    evidence: Mapping[str, str] = field(default_factory=dict)
    # course code -> (modules completed, modules in the course, date the last was completed)
    courses: Mapping[str, CourseFact] = field(default_factory=dict)
    # module code -> every scored attempt at its assessment
    attempts: Mapping[str, tuple[AttemptFact, ...]] = field(default_factory=dict)
    experience_months: int = 0  # verified experience, overlapping periods counted once
    experience_pending: bool = False  # experience submitted, not yet reviewed
    as_of: date | None = None  # "today", for requirements within the last N days
    # hours of measured time on task: key None for every course, else a course code
    contact_hours: Mapping[str | None, float] = field(default_factory=dict)
    # leaf key (see ``Leaf.key``) -> met (True) or not met (False), set by an instructor
    overrides: Mapping[str, bool] = field(default_factory=dict)
    # For the at-risk check, not for readiness: failed quiz attempts by module code (only
    # modules with some), and the newest quiz submission on the tree's modules.
    failed_attempts: Mapping[str, int] = field(default_factory=dict)
    last_submission_at: datetime | None = None


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (0 if ``end`` is not after ``start``)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return max(0, months)


def experience_months(periods: Sequence[tuple[date, date]]) -> int:
    """Whole months of experience in ``periods``, counting overlapping periods once."""
    merged: list[list[date]] = []
    for start, end in sorted(p for p in periods if p[1] > p[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return sum(months_between(start, end) for start, end in merged)
