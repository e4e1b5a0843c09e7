"""Requirements met by what a student shows the school: verified evidence, months of work."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lms.credentials.rules.facts import EVIDENCE_LABELS, EvidenceKind, StudentFacts
from lms.credentials.rules.nodes import (
    LEAF_DONE,
    LEAF_NOT_STARTED,
    LEAF_STARTED,
    Leaf,
    LeafVerdict,
    Needs,
    Outcome,
    Reading,
    State,
    is_whole,
    kind,
)

_EVIDENCE_STATUS = {
    "submitted": "submitted, waiting for review by your school",
    "rejected": "it was rejected; submit it again",
}


@kind
@dataclass(frozen=True)
class EvidenceVerified(Leaf):
    """Have evidence of ``kind`` verified by the school."""

    kind: EvidenceKind

    TYPE = "evidence"

    @classmethod
    def read(cls, data: Mapping[str, Any], at: Reading) -> EvidenceVerified | None:
        """``{"type": "evidence", "kind": "hs_diploma_or_ged"}``."""
        try:
            return cls(kind=EvidenceKind(data.get("kind")))
        except ValueError:
            at.problem(f"unknown evidence kind {data.get('kind')!r}")
            return None

    def to_data(self) -> dict[str, Any]:
        """The JSON form."""
        return {"type": self.TYPE, "kind": self.kind.value}

    def needs(self) -> Needs:
        """The student's evidence."""
        return Needs(evidence=True)

    @property
    def key(self) -> str:
        """``evidence:<kind>``."""
        return f"evidence:{self.kind.value}"

    def verdict(self, facts: StudentFacts) -> LeafVerdict:
        """Done once verified; started once submitted (even if rejected)."""
        state = facts.evidence.get(self.kind.value)
        if state == "verified":
            return LEAF_DONE
        return LEAF_STARTED if state else LEAF_NOT_STARTED

    def explain(self, facts: StudentFacts, titles: Mapping[str, str]) -> Outcome:
        """``Have your high school diploma or GED verified: not submitted yet``."""
        label = EVIDENCE_LABELS[self.kind]
        met, progress, state = self.verdict(facts)
        if met:
            return Outcome(self, True, progress, f"Your {label} is verified", state=state)
        held = facts.evidence.get(self.kind.value) or ""
        status = _EVIDENCE_STATUS.get(held, "not submitted yet")
        return Outcome(self, False, progress, f"Have your {label} verified: {status}", state=state)

    def heading(self, titles: Mapping[str, str]) -> tuple[str, str]:
        """``Diploma/GED`` (or the kind), and ``Verified <what>``."""
        short = "Diploma/GED" if self.kind is EvidenceKind.HS_DIPLOMA_OR_GED else self.kind.value
        return short.replace("_", " "), f"Verified {EVIDENCE_LABELS[self.kind]}"


@kind
@dataclass(frozen=True)
class ExperienceMonths(Leaf):
    """Have at least ``min_months`` months of verified work experience."""

    min_months: int

    TYPE = "experience_months"

    @classmethod
    def read(cls, data: Mapping[str, Any], at: Reading) -> ExperienceMonths | None:
        """``{"type": "experience_months", "min_months": 24}`` (1 to 600 months)."""
        months = data.get("min_months")
        if not is_whole(months, 1, 600):
            at.problem("min_months must be a whole number of months from 1 to 600")
            return None
        return cls(min_months=months)

    def to_data(self) -> dict[str, Any]:
        """The JSON form."""
        return {"type": self.TYPE, "min_months": self.min_months}

    def needs(self) -> Needs:
        """The student's evidence (experience is evidence with dates)."""
        return Needs(evidence=True)

    @property
    def key(self) -> str:
        """``experience:<months>``."""
        return f"experience:{self.min_months}"

    def verdict(self, facts: StudentFacts) -> LeafVerdict:
        """Done at the months asked; started with some verified or some waiting for review."""
        need, have = self.min_months, facts.experience_months
        if have >= need:
            return LEAF_DONE
        started = have or facts.experience_pending
        return False, min(1.0, have / need), State.IN_PROGRESS if started else State.NOT_STARTED

    def explain(self, facts: StudentFacts, titles: Mapping[str, str]) -> Outcome:
        """``Have 24 months of verified coding experience: none verified yet``."""
        have = facts.experience_months
        met, progress, state = self.verdict(facts)
        if met:
            return Outcome(
                self, True, progress, f"{have} months of experience verified", state=state
            )
        task = f"Have {self.min_months} months of verified coding experience"
        status = f"{have} months verified so far" if have else "none verified yet"
        if facts.experience_pending:
            status += "; some is waiting for review by your school"
        return Outcome(self, False, progress, f"{task}: {status}", state=state)

    def heading(self, titles: Mapping[str, str]) -> tuple[str, str]:
        """``Experience``, and ``24 months of experience``."""
        return "Experience", f"{self.min_months} months of experience"
