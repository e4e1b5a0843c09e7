"""The readiness engine: a requirement tree and a student's facts in, a result tree out.

Pure: no Flask, no database, no clock. Every unmet requirement is reported, not just the
first, with a sentence a student understands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, NamedTuple


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
    EvidenceKind.EXPERIENCE: "coding or billing work experience",
    EvidenceKind.POSTSECONDARY_PROGRAM: "completed postsecondary billing or coding programme",
    EvidenceKind.MEMBERSHIP: "membership of the certifying body",
    EvidenceKind.PRACTICODE: "completion of AAPC's Practicode",
    EvidenceKind.PREP_COURSE_80_HOURS: "80 contact hours of a coding preparation course",
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
class ContactHours:
    """Have at least ``hours`` of measured time on task (in the course with code ``course``,
    or in every course when it is ``None``)."""

    hours: float
    course: str | None = None


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


@dataclass(frozen=True)
class CourseCompleted:
    """Complete every module of a course."""

    course: str


@dataclass(frozen=True)
class AssessmentScore:
    """Score at least ``min_score`` percent on a module's assessment (a quiz or a practice
    exam), optionally within the last ``within_days`` days."""

    module: str
    min_score: float
    within_days: int | None = None


@dataclass(frozen=True)
class ExperienceMonths:
    """Have at least ``min_months`` months of verified work experience."""

    min_months: int


Requirement = (
    ModuleCompleted
    | EvidenceVerified
    | ContactHours
    | AllOf
    | AnyOf
    | NOf
    | CourseCompleted
    | AssessmentScore
    | ExperienceMonths
)
Group = AllOf | AnyOf | NOf


class RequirementError(ValueError):
    """A requirement tree that cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


def parse_requirements(data: Any) -> Requirement:
    """Build a requirement tree from its JSON form, or raise with every problem found."""
    problems: list[str] = []
    if _depth(data) > MAX_DEPTH:
        raise RequirementError([f"root: the tree is nested deeper than {MAX_DEPTH} levels"])
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
    if kind == "contact_hours":
        hours, course = data.get("hours"), data.get("course")
        if isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0:
            problems.append(f"{path}: contact_hours needs hours greater than 0")
            return None
        if course is not None and (not isinstance(course, str) or not course.strip()):
            problems.append(f"{path}: contact_hours course must be a course code")
            return None
        return ContactHours(hours=hours, course=course.strip() if course else None)
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
    if kind in _EXTRA_LEAF_PARSERS:
        return _EXTRA_LEAF_PARSERS[kind](data, path, problems)
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
        case CourseCompleted() | AssessmentScore() | ExperienceMonths():
            return _extra_leaf_to_data(requirement)
        case ContactHours(hours, course):
            data = {"type": "contact_hours", "hours": hours}
            if course:
                data["course"] = course
            return data
        case NOf(n, children, label):
            data = {"type": "n_of", "n": n, "children": [requirement_to_data(c) for c in children]}
        case AllOf(children, label):
            data = {"type": "all_of", "children": [requirement_to_data(c) for c in children]}
        case AnyOf(children, label):
            data = {"type": "any_of", "children": [requirement_to_data(c) for c in children]}
    if label:
        data["label"] = label
    return data


def leaves(requirement: Requirement) -> list[Requirement]:
    """Every leaf of the tree, in order."""
    if not isinstance(requirement, AllOf | AnyOf | NOf):
        return [requirement]
    return [leaf for child in requirement.children for leaf in leaves(child)]


def module_codes(requirement: Requirement) -> list[str]:
    """The module codes the tree names, in order, without repeats."""
    codes = [
        leaf.module
        for leaf in leaves(requirement)
        if isinstance(leaf, ModuleCompleted | AssessmentScore)
    ]
    return list(dict.fromkeys(codes))


# --- facts -------------------------------------------------------------------------------


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
    # leaf key (see ``leaf_key``) -> met (True) or not met (False), set by an instructor
    overrides: Mapping[str, bool] = field(default_factory=dict)
    # For the at-risk check, not for readiness: failed quiz attempts by module code (only
    # modules with some), and the newest quiz submission on the tree's modules.
    failed_attempts: Mapping[str, int] = field(default_factory=dict)
    last_submission_at: datetime | None = None


# --- outcomes ----------------------------------------------------------------------------


class State(StrEnum):
    """How far a student has got with a requirement."""

    DONE = "done"
    IN_PROGRESS = "in_progress"
    NOT_STARTED = "not_started"


@dataclass(frozen=True, slots=True)
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
    weight: int = 1  # how many leaves must be met to meet this node
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


_GROUPS = (AllOf, AnyOf, NOf)

# (met, progress, state) of a leaf: what a verdict needs. Every leaf is met exactly when it is
# done, so the state alone says both; progress is kept for contact hours, courses, experience.
_LEAF_DONE = (True, 1.0, State.DONE)
_LEAF_NOT_STARTED = (False, 0.0, State.NOT_STARTED)
_LEAF_STARTED = (False, 0.0, State.IN_PROGRESS)


def evaluate(
    requirement: Requirement, facts: StudentFacts, module_titles: Mapping[str, str]
) -> Outcome:
    """Judge ``requirement`` against ``facts``; titles name modules in the explanations."""
    if isinstance(requirement, _GROUPS):
        children = tuple(evaluate(c, facts, module_titles) for c in requirement.children)
        return _evaluate_group(requirement, children)
    overridden = _evaluate_override(requirement, facts, module_titles)
    if overridden is not None:
        return overridden
    match requirement:
        case ModuleCompleted():
            return _evaluate_module(requirement, facts, module_titles)
        case EvidenceVerified():
            return _evaluate_evidence(requirement, facts)
        case ContactHours():
            return _evaluate_contact_hours(requirement, facts)
    return _evaluate_extra_leaf(requirement, facts, module_titles)


def leaf_key(leaf: Requirement) -> str:
    """The stable key of a leaf: names a matrix column and an override in
    ``StudentFacts.overrides`` (a module code, ``evidence:<kind>``, ``score:<module>`` ...)."""
    match leaf:
        case ModuleCompleted(module):
            return module
        case EvidenceVerified(kind):
            return f"evidence:{kind.value}"
        case AssessmentScore(module):
            return f"score:{module}"
        case CourseCompleted(course):
            return f"course:{course}"
        case ExperienceMonths(min_months):
            return f"experience:{min_months}"
        case ContactHours(_, course):
            return f"hours:{course or '*'}"
    raise TypeError(f"not a leaf: {leaf!r}")


def _override_verdict(met: bool) -> tuple[bool, float, State]:
    return _LEAF_DONE if met else _LEAF_NOT_STARTED


def _evaluate_override(
    requirement: Requirement, facts: StudentFacts, module_titles: Mapping[str, str]
) -> Outcome | None:
    met = facts.overrides.get(leaf_key(requirement)) if facts.overrides else None
    if met is None:
        return None
    if isinstance(requirement, ModuleCompleted):
        title = module_titles.get(requirement.module)
        name = f"{title} ({requirement.module})" if title else requirement.module
    else:
        _, _, name = leaf_heading(requirement, module_titles)
    verdict = "marked met" if met else "marked not met"
    met, progress, state = _override_verdict(met)
    return Outcome(
        requirement,
        met,
        progress,
        f"{name}: {verdict} by your instructor",
        state=state,
        overridden=True,
    )


def _format_score(score: float) -> str:
    return f"{score:.0f}%" if float(score).is_integer() else f"{score:.1f}%"


def _module_verdict(requirement: ModuleCompleted, facts: StudentFacts) -> tuple[bool, float, State]:
    return _module_fact_verdict(requirement, facts.modules.get(requirement.module))


def _module_fact_verdict(
    requirement: ModuleCompleted, fact: ModuleFact | None
) -> tuple[bool, float, State]:
    if fact is None:
        return _LEAF_NOT_STARTED
    completed, threshold = fact.completed_score, requirement.min_score
    if completed is not None and (threshold is None or completed >= threshold):
        return _LEAF_DONE
    if completed is None and fact.best_attempt_score is None:
        return _LEAF_NOT_STARTED
    return _LEAF_STARTED


def _evaluate_module(
    requirement: ModuleCompleted, facts: StudentFacts, module_titles: Mapping[str, str]
) -> Outcome:
    fact = facts.modules.get(requirement.module)
    met, progress, state = _module_fact_verdict(requirement, fact)
    title = module_titles.get(requirement.module)
    name = f"{title} ({requirement.module})" if title else requirement.module
    if fact is None:
        completed = attempted = completed_on = None
    else:
        completed, completed_on, attempted = fact
    if met:
        when = f" on {completed_on.isoformat()}" if completed_on else ""
        explanation = f"{name}: done with {_format_score(completed)}{when}"
    else:
        threshold = requirement.min_score
        task = f"Pass {name}" + (f" with {_format_score(threshold)} or more" if threshold else "")
        if completed is None and attempted is None:
            explanation = f"{task}: not attempted yet"
        else:
            best = max(s for s in (attempted, completed) if s is not None)
            explanation = f"{task}: your best is {_format_score(best)}"
    scores = [s for s in (attempted, completed) if s is not None]
    return Outcome(
        requirement,
        met,
        progress,
        explanation,
        state=state,
        score=max(scores) if scores else None,
        achieved_on=completed_on if met else None,
    )


def _evidence_verdict(
    requirement: EvidenceVerified, facts: StudentFacts
) -> tuple[bool, float, State]:
    state = facts.evidence.get(requirement.kind.value)
    if state == "verified":
        return _LEAF_DONE
    return _LEAF_STARTED if state else _LEAF_NOT_STARTED


def _evaluate_evidence(requirement: EvidenceVerified, facts: StudentFacts) -> Outcome:
    label = EVIDENCE_LABELS[requirement.kind]
    met, progress, state = _evidence_verdict(requirement, facts)
    if met:
        return Outcome(requirement, True, progress, f"Your {label} is verified", state=state)
    status = {
        "submitted": "submitted, waiting for review by your school",
        "rejected": "it was rejected; submit it again",
    }.get(facts.evidence.get(requirement.kind.value) or "", "not submitted yet")
    return Outcome(
        requirement, False, progress, f"Have your {label} verified: {status}", state=state
    )


def _contact_hours_verdict(
    requirement: ContactHours, facts: StudentFacts
) -> tuple[bool, float, State]:
    have = float(facts.contact_hours.get(requirement.course, 0.0))
    if have >= requirement.hours:
        return _LEAF_DONE
    progress = max(0.0, min(1.0, have / requirement.hours))
    return False, progress, State.IN_PROGRESS if have > 0 else State.NOT_STARTED


def _evaluate_contact_hours(requirement: ContactHours, facts: StudentFacts) -> Outcome:
    have = float(facts.contact_hours.get(requirement.course, 0.0))
    met, progress, state = _contact_hours_verdict(requirement, facts)
    where = f" in {requirement.course}" if requirement.course else ""
    need = f"{requirement.hours:g}"
    if met:
        return Outcome(
            requirement, True, progress, f"{need} contact hours{where}: done", state=state
        )
    return Outcome(
        requirement,
        False,
        progress,
        f"Study {need} contact hours{where}: {have:.1f} so far",
        state=state,
    )


# A verdict on a node: (met, progress, weight, state), weight being how many leaves must be
# met to meet it. Groups combine their children's with ``_group_verdict``.
NodeVerdict = tuple[bool, float, int, State]


def _group_verdict(requirement: Group, children: Sequence[NodeVerdict]) -> tuple[NodeVerdict, int]:
    """The group's verdict from its children's, and how many children are met.

    Progress is the share of the needed leaves that are met, so one module of seven done
    reads 14% however the modules are grouped."""
    done = sum(1 for child in children if child[0])
    if isinstance(requirement, AllOf):
        met = done == len(children)
        counted: Sequence[NodeVerdict] = children
    elif isinstance(requirement, AnyOf):
        met = done >= 1
        counted = [max(children, key=lambda c: (c[1], -c[2]))]
    else:
        met = done >= requirement.n
        counted = sorted(children, key=lambda c: (-c[1], c[2]))[: requirement.n]
    weight = sum(c[2] for c in counted)
    if met:
        return (True, 1.0, weight, State.DONE), done
    progress = min(1.0, max(0.0, sum(c[1] * c[2] for c in counted) / weight))
    started = any(c[3] is not State.NOT_STARTED for c in children)
    return (False, progress, weight, State.IN_PROGRESS if started else State.NOT_STARTED), done


def _evaluate_group(requirement: Group, children: tuple[Outcome, ...]) -> Outcome:
    (met, progress, weight, state), done = _group_verdict(
        requirement, [(c.met, c.progress, c.weight, c.state) for c in children]
    )
    total = len(children)
    if isinstance(requirement, AllOf):
        summary = f"all {total} required, {done} done"
    elif isinstance(requirement, AnyOf):
        summary = f"one of {total} required, {done} done"
    else:
        summary = f"{requirement.n} of {total} required, {done} done"
    prefix = f"{requirement.label}: " if requirement.label else ""
    return Outcome(
        requirement, met, progress, prefix + summary, children, state=state, weight=weight
    )


# --- verdicts: the same judgement without the sentences, for many students at once --------


class Verdict(NamedTuple):
    """A student's standing on a whole tree, as ``evaluate`` finds it, without the
    explanations: what a cohort's counts, filters and sorts need."""

    met: bool
    progress: float
    leaf_states: tuple[State, ...]  # each leaf's state, in tree order (met exactly when done)


class Judge:
    """A requirement tree prepared once to judge many students' facts quickly.

    ``judge(facts)`` returns the ``Verdict`` whose met, progress and leaf states are those of
    ``evaluate(tree, facts, titles)``; the leaves use the same verdict functions, and the
    groups the same ``_group_verdict``. What it skips is the sentences and the result tree,
    which is most of the cost for a cohort of a thousand students: explain only the students
    shown, with ``evaluate``."""

    def __init__(self, tree: Requirement) -> None:
        self.tree = tree
        self.leaves = leaves(tree)
        self._root = _compile(tree)

    def __call__(self, facts: StudentFacts) -> Verdict:
        states: list[State] = []
        met, progress, _, _ = self._root(facts, states)
        return Verdict(met, progress, tuple(states))


_Compiled = Any  # (facts, states) -> NodeVerdict, appending each leaf's state to ``states``


def _compile(node: Requirement) -> _Compiled:
    if isinstance(node, _GROUPS):
        children = [_compile(child) for child in node.children]
        if isinstance(node, AllOf) and all(isinstance(c, ModuleCompleted) for c in node.children):
            return _compile_module_list(node, children)
        return _compile_group(node, children)
    key = leaf_key(node)
    verdict = _LEAF_VERDICTS[type(node)]

    def judge_leaf(facts: StudentFacts, states: list[State]) -> NodeVerdict:
        override = facts.overrides.get(key) if facts.overrides else None
        met, progress, state = (
            verdict(node, facts) if override is None else _override_verdict(override)
        )
        states.append(state)
        return met, progress, 1, state

    return judge_leaf


def _compile_group(node: Group, children: list[_Compiled]) -> _Compiled:
    def judge_group(facts: StudentFacts, states: list[State]) -> NodeVerdict:
        return _group_verdict(node, [child(facts, states) for child in children])[0]

    return judge_group


def _compile_module_list(node: AllOf, children: list[_Compiled]) -> _Compiled:
    """An ``all_of`` of modules only (a course, say: most of a real tree), judged in one loop:
    the same verdict as ``_module_verdict`` and ``_group_verdict`` give, without a call per
    module. A student with overrides takes the general path."""
    general = _compile_group(node, children)
    modules = [(leaf.module, leaf.min_score) for leaf in node.children]
    total = len(modules)
    done_, started_, not_started = State.DONE, State.IN_PROGRESS, State.NOT_STARTED

    def judge_modules(facts: StudentFacts, states: list[State]) -> NodeVerdict:
        if facts.overrides:
            return general(facts, states)
        known = facts.modules
        # a ModuleFact or ModuleFacts' own tuple: (completed score, completed on, best attempt)
        get = known._rows.get if type(known) is ModuleFacts else known.get
        done = 0
        started = False
        for code, threshold in modules:
            fact = get(code)
            if fact is None:
                states.append(not_started)
                continue
            completed = fact[0]
            if completed is not None and (threshold is None or completed >= threshold):
                done += 1
                states.append(done_)
            elif completed is None and fact[2] is None:
                states.append(not_started)
            else:
                started = True
                states.append(started_)
        if done == total:
            return True, 1.0, total, done_
        return False, done / total, total, started_ if started or done else not_started

    return judge_modules


# --- course, assessment and experience leaves ---------------------------------------------

MAX_DEPTH = 10  # a tree deeper than this is a mistake, not a requirement


def _depth(data: Any) -> int:
    """How deeply groups nest in the JSON form of a tree (iterative: no recursion limit)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(node, Mapping) and isinstance(node.get("children"), list):
            stack.extend((child, level + 1) for child in node["children"])
    return deepest


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float)


def _parse_course(data: Mapping, path: str, problems: list[str]) -> Requirement | None:
    course = data.get("course")
    if not isinstance(course, str) or not course.strip():
        problems.append(f"{path}: course_completed needs a course code")
        return None
    return CourseCompleted(course=course.strip())


def _parse_assessment(data: Mapping, path: str, problems: list[str]) -> Requirement | None:
    module, min_score, within = data.get("module"), data.get("min_score"), data.get("within_days")
    ok = True
    if not isinstance(module, str) or not module.strip():
        problems.append(f"{path}: assessment_score needs a module code")
        ok = False
    if not _number(min_score) or not 0 <= min_score <= 100:
        problems.append(f"{path}: min_score must be a number from 0 to 100")
        ok = False
    if within is not None and (
        isinstance(within, bool) or not isinstance(within, int) or not 1 <= within <= 3650
    ):
        problems.append(f"{path}: within_days must be a whole number of days from 1 to 3650")
        ok = False
    if not ok:
        return None
    return AssessmentScore(module=module.strip(), min_score=min_score, within_days=within)


def _parse_experience(data: Mapping, path: str, problems: list[str]) -> Requirement | None:
    months = data.get("min_months")
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 600:
        problems.append(f"{path}: min_months must be a whole number of months from 1 to 600")
        return None
    return ExperienceMonths(min_months=months)


_EXTRA_LEAF_PARSERS = {
    "course_completed": _parse_course,
    "assessment_score": _parse_assessment,
    "experience_months": _parse_experience,
}


def _extra_leaf_to_data(requirement: Requirement) -> dict[str, Any]:
    match requirement:
        case CourseCompleted(course):
            return {"type": "course_completed", "course": course}
        case AssessmentScore(module, min_score, within_days):
            data: dict[str, Any] = {
                "type": "assessment_score",
                "module": module,
                "min_score": min_score,
            }
            if within_days is not None:
                data["within_days"] = within_days
            return data
        case ExperienceMonths(min_months):
            return {"type": "experience_months", "min_months": min_months}
    raise TypeError(f"not an extra leaf: {requirement!r}")


def course_codes(requirement: Requirement) -> list[str]:
    """The course codes the tree names, in order, without repeats."""
    codes = [leaf.course for leaf in leaves(requirement) if isinstance(leaf, CourseCompleted)]
    return list(dict.fromkeys(codes))


def _evaluate_extra_leaf(
    requirement: Requirement, facts: StudentFacts, titles: Mapping[str, str]
) -> Outcome:
    match requirement:
        case CourseCompleted():
            return _evaluate_course(requirement, facts, titles)
        case AssessmentScore():
            return _evaluate_assessment(requirement, facts, titles)
        case ExperienceMonths():
            return _evaluate_experience(requirement, facts)
    raise TypeError(f"not an extra leaf: {requirement!r}")


def _named(code: str, titles: Mapping[str, str]) -> str:
    title = titles.get(code)
    return f"{title} ({code})" if title else code


def _course_verdict(requirement: CourseCompleted, facts: StudentFacts) -> tuple[bool, float, State]:
    fact = facts.courses.get(requirement.course)
    total = fact.modules_total if fact else 0
    done = fact.modules_done if fact else 0
    if total > 0 and done >= total:
        return _LEAF_DONE
    progress = min(1.0, max(0.0, done / total)) if total else 0.0
    return False, progress, State.IN_PROGRESS if done else State.NOT_STARTED


def _evaluate_course(
    requirement: CourseCompleted, facts: StudentFacts, titles: Mapping[str, str]
) -> Outcome:
    name = _named(requirement.course, titles)
    fact = facts.courses.get(requirement.course)
    met, progress, state = _course_verdict(requirement, facts)
    if met:
        when = f" on {fact.completed_on.isoformat()}" if fact and fact.completed_on else ""
        return Outcome(
            requirement,
            True,
            progress,
            f"{name}: every module done{when}",
            state=state,
            achieved_on=fact.completed_on if fact else None,
        )
    total = fact.modules_total if fact else 0
    done = fact.modules_done if fact else 0
    status = f"{done} of {total} modules done" if total else "the course has no modules yet"
    return Outcome(
        requirement, False, progress, f"Complete every module of {name}: {status}", state=state
    )


def _best_counted_attempt(
    requirement: AssessmentScore, facts: StudentFacts
) -> tuple[tuple[AttemptFact, ...], AttemptFact | None]:
    """Every attempt at the module's assessment, and the best one inside the window."""
    attempts = facts.attempts.get(requirement.module, ())
    window = requirement.within_days
    if window is not None and facts.as_of is not None:
        counted = [a for a in attempts if (facts.as_of - a.on).days < window]
    else:
        counted = list(attempts)
    return attempts, max(counted, key=lambda a: (a.score, a.on), default=None)


def _assessment_verdict(
    requirement: AssessmentScore, facts: StudentFacts
) -> tuple[bool, float, State]:
    attempts, best = _best_counted_attempt(requirement, facts)
    if best is not None and best.score >= requirement.min_score:
        return _LEAF_DONE
    return _LEAF_STARTED if attempts else _LEAF_NOT_STARTED


def _evaluate_assessment(
    requirement: AssessmentScore, facts: StudentFacts, titles: Mapping[str, str]
) -> Outcome:
    name = _named(requirement.module, titles)
    threshold = requirement.min_score
    window = requirement.within_days
    attempts, best = _best_counted_attempt(requirement, facts)
    met, progress, state = _assessment_verdict(requirement, facts)
    period = f" within the last {window} days" if window else ""
    task = f"Score {_format_score(threshold)} or more on {name}{period}"
    if met:
        return Outcome(
            requirement,
            True,
            progress,
            f"{name}: {_format_score(best.score)} on {best.on.isoformat()}",
            state=state,
            score=best.score,
            achieved_on=best.on,
        )
    if not attempts:
        return Outcome(requirement, False, progress, f"{task}: not attempted yet", state=state)
    if best is None:
        older = max(a.score for a in attempts)
        explanation = f"{task}: your best, {_format_score(older)}, is older than that"
        return Outcome(requirement, False, progress, explanation, state=state)
    where = " in that time" if window else ""
    return Outcome(
        requirement,
        False,
        progress,
        f"{task}: your best{where} is {_format_score(best.score)}",
        state=state,
        score=best.score,
    )


def _experience_verdict(
    requirement: ExperienceMonths, facts: StudentFacts
) -> tuple[bool, float, State]:
    need, have = requirement.min_months, facts.experience_months
    if have >= need:
        return _LEAF_DONE
    started = have or facts.experience_pending
    return False, min(1.0, have / need), State.IN_PROGRESS if started else State.NOT_STARTED


def _evaluate_experience(requirement: ExperienceMonths, facts: StudentFacts) -> Outcome:
    need, have = requirement.min_months, facts.experience_months
    met, progress, state = _experience_verdict(requirement, facts)
    if met:
        return Outcome(
            requirement, True, progress, f"{have} months of experience verified", state=state
        )
    task = f"Have {need} months of verified coding or billing experience"
    status = f"{have} months verified so far" if have else "none verified yet"
    if facts.experience_pending:
        status += "; some is waiting for review by your school"
    return Outcome(requirement, False, progress, f"{task}: {status}", state=state)


_LEAF_VERDICTS = {
    ModuleCompleted: _module_verdict,
    EvidenceVerified: _evidence_verdict,
    ContactHours: _contact_hours_verdict,
    CourseCompleted: _course_verdict,
    AssessmentScore: _assessment_verdict,
    ExperienceMonths: _experience_verdict,
}


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


def leaf_heading(leaf: Requirement, titles: Mapping[str, str]) -> tuple[str, str, str]:
    """(key, short label, long title) of a leaf, for a column of a progress matrix."""
    key = leaf_key(leaf)
    match leaf:
        case ModuleCompleted(module, min_score):
            suffix = f" (at least {min_score:g}%)" if min_score is not None else ""
            return key, module, titles.get(module, module) + suffix
        case AssessmentScore(module, min_score, within_days):
            window = f" within {within_days} days" if within_days else ""
            return key, module, f"{titles.get(module, module)}: {min_score:g}% or more{window}"
        case CourseCompleted(course):
            return key, course, f"Every module of {titles.get(course, course)}"
        case ExperienceMonths(min_months):
            return key, "Experience", f"{min_months} months of experience"
        case ContactHours(hours, course):
            where = f" in {titles.get(course, course)}" if course else ""
            return key, "Hours", f"{hours:g} contact hours{where}"
        case EvidenceVerified(kind):
            short = "Diploma/GED" if kind is EvidenceKind.HS_DIPLOMA_OR_GED else kind.value
            return key, short.replace("_", " "), f"Verified {EVIDENCE_LABELS[kind]}"
    raise TypeError(f"not a leaf: {leaf!r}")


# --- information-only paths ----------------------------------------------------------------

#: AAPC certifies a CPC or COC who passes without two years of experience as an apprentice
#: (CPC-A, COC-A). The designation is removed with two years of experience, or any two of:
#: 80 contact hours of a coding preparation course, AAPC's Practicode, one year of experience.
APPRENTICE_REMOVAL_DATA: dict[str, Any] = {
    "type": "any_of",
    "label": "Apprentice designation removed",
    "children": [
        {"type": "experience_months", "min_months": 24},
        {
            "type": "n_of",
            "n": 2,
            "label": "Two of: 80 contact hours, Practicode, one year of experience",
            "children": [
                {"type": "evidence", "kind": "prep_course_80_hours"},
                {"type": "evidence", "kind": "practicode"},
                {"type": "experience_months", "min_months": 12},
            ],
        },
    ],
}

INFORMATION_PATHS: dict[str, dict[str, Any]] = {
    "CPC": APPRENTICE_REMOVAL_DATA,
    "COC": APPRENTICE_REMOVAL_DATA,
}


def information_path(credential_code: str) -> Requirement | None:
    """The information-only tree shown beside a credential's requirements, if it has one.

    It never decides readiness: AAPC lets an apprentice sit the exam."""
    data = INFORMATION_PATHS.get(credential_code)
    return parse_requirements(data) if data is not None else None
