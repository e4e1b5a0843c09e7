"""The readiness engine: a requirement tree and a student's facts in, a result tree out.

Pure: no Flask, no database, no clock. Every unmet requirement is reported, not just the
first, with a sentence a student understands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any


class EvidenceKind(StrEnum):
    """Kinds of eligibility evidence a requirement can ask for."""

    HS_DIPLOMA_OR_GED = "hs_diploma_or_ged"


EVIDENCE_LABELS = {
    EvidenceKind.HS_DIPLOMA_OR_GED: "high school diploma or GED",
}


# --- requirement trees -------------------------------------------------------------------


@dataclass(frozen=True)
class ModuleCompleted:
    """Complete a module, optionally with at least ``min_score`` percent on its quiz."""

    module: str
    min_score: float | None = None


@dataclass(frozen=True)
class EvidenceVerified:
    """Have evidence of ``kind`` verified by the school."""

    kind: EvidenceKind


@dataclass(frozen=True)
class AllOf:
    """Every child must be met."""

    children: tuple[Requirement, ...]
    label: str | None = None


@dataclass(frozen=True)
class AnyOf:
    """At least one child must be met."""

    children: tuple[Requirement, ...]
    label: str | None = None


@dataclass(frozen=True)
class NOf:
    """At least ``n`` children must be met."""

    n: int
    children: tuple[Requirement, ...]
    label: str | None = None


Requirement = ModuleCompleted | EvidenceVerified | AllOf | AnyOf | NOf
Group = AllOf | AnyOf | NOf


class RequirementError(ValueError):
    """A requirement tree that cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


def parse_requirements(data: Any) -> Requirement:
    """Build a requirement tree from its JSON form, or raise with every problem found."""
    problems: list[str] = []
    tree = _parse(data, "root", problems)
    if problems or tree is None:
        raise RequirementError(problems or ["the tree is empty"])
    return tree


def _parse(data: Any, path: str, problems: list[str]) -> Requirement | None:
    if not isinstance(data, Mapping):
        problems.append(f"{path}: expected an object")
        return None
    kind = data.get("type")
    if kind == "module_completed":
        module = data.get("module")
        min_score = data.get("min_score")
        if not isinstance(module, str) or not module.strip():
            problems.append(f"{path}: module_completed needs a module code")
            return None
        if min_score is not None and (
            isinstance(min_score, bool)
            or not isinstance(min_score, int | float)
            or not 0 <= min_score <= 100
        ):
            problems.append(f"{path}: min_score must be a number from 0 to 100")
            return None
        return ModuleCompleted(module=module.strip(), min_score=min_score)
    if kind == "evidence":
        try:
            return EvidenceVerified(kind=EvidenceKind(data.get("kind")))
        except ValueError:
            problems.append(f"{path}: unknown evidence kind {data.get('kind')!r}")
            return None
    if kind in ("all_of", "any_of", "n_of"):
        raw_children = data.get("children")
        if not isinstance(raw_children, list) or not raw_children:
            problems.append(f"{path}: {kind} needs a non-empty list of children")
            return None
        parsed = [
            _parse(child, f"{path}.{kind}[{i}]", problems) for i, child in enumerate(raw_children)
        ]
        if any(child is None for child in parsed):
            return None
        children = tuple(child for child in parsed if child is not None)
        label = data.get("label")
        if kind == "all_of":
            return AllOf(children, label)
        if kind == "any_of":
            return AnyOf(children, label)
        n = data.get("n")
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(children):
            problems.append(f"{path}: n_of needs n between 1 and {len(children)}")
            return None
        return NOf(n, children, label)
    problems.append(f"{path}: unknown requirement type {kind!r}")
    return None


def requirement_to_data(requirement: Requirement) -> dict[str, Any]:
    """The JSON form of a requirement tree (the inverse of ``parse_requirements``)."""
    match requirement:
        case ModuleCompleted(module, min_score):
            data: dict[str, Any] = {"type": "module_completed", "module": module}
            if min_score is not None:
                data["min_score"] = min_score
            return data
        case EvidenceVerified(kind):
            return {"type": "evidence", "kind": kind.value}
        case NOf(n, children, label):
            data = {"type": "n_of", "n": n, "children": [requirement_to_data(c) for c in children]}
        case AllOf(children, label):
            data = {"type": "all_of", "children": [requirement_to_data(c) for c in children]}
        case AnyOf(children, label):
            data = {"type": "any_of", "children": [requirement_to_data(c) for c in children]}
    if label:
        data["label"] = label
    return data


def leaves(requirement: Requirement) -> list[ModuleCompleted | EvidenceVerified]:
    """Every leaf of the tree, in order."""
    if isinstance(requirement, ModuleCompleted | EvidenceVerified):
        return [requirement]
    return [leaf for child in requirement.children for leaf in leaves(child)]


def module_codes(requirement: Requirement) -> list[str]:
    """The module codes the tree names, in order, without repeats."""
    codes = [leaf.module for leaf in leaves(requirement) if isinstance(leaf, ModuleCompleted)]
    return list(dict.fromkeys(codes))


# --- facts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModuleFact:
    """What is known of one student's work on one module."""

    completed_score: float | None = None  # best score among recorded completions
    completed_on: date | None = None
    best_attempt_score: float | None = None  # best quiz score, passed or not


@dataclass(frozen=True)
class StudentFacts:
    """Everything the engine needs to know about one student."""

    modules: Mapping[str, ModuleFact] = field(default_factory=dict)
    # evidence kind -> "verified" / "submitted" / "rejected" (the best state reached)
    evidence: Mapping[str, str] = field(default_factory=dict)
    # leaf key (see ``leaf_key``) -> met (True) or not met (False), set by an instructor
    overrides: Mapping[str, bool] = field(default_factory=dict)


# --- outcomes ----------------------------------------------------------------------------


class State(StrEnum):
    """How far a student has got with a requirement."""

    DONE = "done"
    IN_PROGRESS = "in_progress"
    NOT_STARTED = "not_started"


@dataclass(frozen=True)
class Outcome:
    """The verdict on one requirement node, with its children's verdicts."""

    requirement: Requirement
    met: bool
    progress: float  # 0..1
    explanation: str
    children: tuple[Outcome, ...] = ()
    state: State = State.NOT_STARTED
    score: float | None = None  # best score, for module leaves
    achieved_on: date | None = None
    overridden: bool = False  # decided by an instructor's override, not by the facts

    def leaf_outcomes(self) -> list[Outcome]:
        """The verdicts on every leaf, in tree order."""
        if not self.children:
            return [self]
        return [leaf for child in self.children for leaf in child.leaf_outcomes()]

    def unmet(self) -> list[Outcome]:
        """Every unmet leaf under an unmet node: the full list of what is missing.

        The options left open by a group that is already met (an ``any_of`` with one child
        done) are not missing, so they are not listed."""
        if self.met:
            return []
        if not self.children:
            return [self]
        return [leaf for child in self.children for leaf in child.unmet()]

    def to_data(self) -> dict[str, Any]:
        """A JSON form of the verdicts, kept in a certificate's snapshot."""
        data: dict[str, Any] = {
            "met": self.met,
            "state": self.state.value,
            "progress": round(self.progress, 4),
            "explanation": self.explanation,
        }
        if self.children:
            data["children"] = [child.to_data() for child in self.children]
        else:
            data["requirement"] = requirement_to_data(self.requirement)
        return data


def evaluate(
    requirement: Requirement, facts: StudentFacts, module_titles: Mapping[str, str]
) -> Outcome:
    """Judge ``requirement`` against ``facts``; titles name modules in the explanations."""
    if isinstance(requirement, ModuleCompleted | EvidenceVerified):
        overridden = _evaluate_override(requirement, facts, module_titles)
        if overridden is not None:
            return overridden
    match requirement:
        case ModuleCompleted():
            return _evaluate_module(requirement, facts, module_titles)
        case EvidenceVerified():
            return _evaluate_evidence(requirement, facts)
        case _:
            children = tuple(evaluate(c, facts, module_titles) for c in requirement.children)
            return _evaluate_group(requirement, children)


def leaf_key(leaf: ModuleCompleted | EvidenceVerified) -> str:
    """The key naming a leaf in ``StudentFacts.overrides``: a module code or ``evidence:<kind>``."""
    if isinstance(leaf, ModuleCompleted):
        return leaf.module
    return f"evidence:{leaf.kind.value}"


def _evaluate_override(
    requirement: ModuleCompleted | EvidenceVerified,
    facts: StudentFacts,
    module_titles: Mapping[str, str],
) -> Outcome | None:
    met = facts.overrides.get(leaf_key(requirement))
    if met is None:
        return None
    if isinstance(requirement, ModuleCompleted):
        title = module_titles.get(requirement.module)
        name = f"{title} ({requirement.module})" if title else requirement.module
    else:
        name = EVIDENCE_LABELS[requirement.kind]
    verdict = "marked met" if met else "marked not met"
    return Outcome(
        requirement,
        met,
        1.0 if met else 0.0,
        f"{name}: {verdict} by your instructor",
        state=State.DONE if met else State.NOT_STARTED,
        overridden=True,
    )


def _format_score(score: float) -> str:
    return f"{score:.0f}%" if float(score).is_integer() else f"{score:.1f}%"


def _evaluate_module(
    requirement: ModuleCompleted, facts: StudentFacts, module_titles: Mapping[str, str]
) -> Outcome:
    fact = facts.modules.get(requirement.module, ModuleFact())
    title = module_titles.get(requirement.module)
    name = f"{title} ({requirement.module})" if title else requirement.module
    threshold = requirement.min_score
    completed = fact.completed_score is not None
    met = completed and (threshold is None or fact.completed_score >= threshold)
    task = f"Pass {name}" + (f" with {_format_score(threshold)} or more" if threshold else "")
    scores = [s for s in (fact.best_attempt_score, fact.completed_score) if s is not None]
    best = max(scores) if scores else None
    if met:
        when = f" on {fact.completed_on.isoformat()}" if fact.completed_on else ""
        explanation = f"{name}: done with {_format_score(fact.completed_score)}{when}"
        state = State.DONE
    elif best is None:
        explanation = f"{task}: not attempted yet"
        state = State.NOT_STARTED
    else:
        explanation = f"{task}: your best is {_format_score(best)}"
        state = State.IN_PROGRESS
    return Outcome(
        requirement,
        met,
        1.0 if met else 0.0,
        explanation,
        state=state,
        score=best,
        achieved_on=fact.completed_on if met else None,
    )


def _evaluate_evidence(requirement: EvidenceVerified, facts: StudentFacts) -> Outcome:
    label = EVIDENCE_LABELS[requirement.kind]
    state = facts.evidence.get(requirement.kind.value)
    if state == "verified":
        return Outcome(requirement, True, 1.0, f"Your {label} is verified", state=State.DONE)
    task = f"Have your {label} verified"
    status = {
        "submitted": "submitted, waiting for review by your school",
        "rejected": "it was rejected; submit it again",
    }.get(state or "", "not submitted yet")
    progress_state = State.IN_PROGRESS if state else State.NOT_STARTED
    return Outcome(requirement, False, 0.0, f"{task}: {status}", state=progress_state)


def _evaluate_group(requirement: Group, children: tuple[Outcome, ...]) -> Outcome:
    done = sum(1 for child in children if child.met)
    total = len(children)
    prefix = f"{requirement.label}: " if requirement.label else ""
    if isinstance(requirement, AllOf):
        met = done == total
        progress = sum(c.progress for c in children) / total
        summary = f"all {total} required, {done} done"
    elif isinstance(requirement, AnyOf):
        met = done >= 1
        progress = max(c.progress for c in children)
        summary = f"one of {total} required, {done} done"
    else:
        met = done >= requirement.n
        best = sorted((c.progress for c in children), reverse=True)[: requirement.n]
        progress = sum(best) / requirement.n
        summary = f"{requirement.n} of {total} required, {done} done"
    progress = min(1.0, max(0.0, progress))
    if met:
        state = State.DONE
    elif any(c.state is not State.NOT_STARTED for c in children):
        state = State.IN_PROGRESS
    else:
        state = State.NOT_STARTED
    return Outcome(
        requirement, met, 1.0 if met else progress, prefix + summary, children, state=state
    )
