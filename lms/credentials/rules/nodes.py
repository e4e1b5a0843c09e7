"""What every node of a requirement tree is, and the verdicts it gives.

A kind of requirement is one class, registered under its JSON ``type`` with ``@kind``: it
reads itself from the JSON form (``read``), writes itself back (``to_data``), says what it
needs gathered (``needs``), and, for a leaf, its key, its verdict on a student's facts, the
sentence that explains it, and its heading. The engine (``engine.py``) only walks the tree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar, NamedTuple

from lms.credentials.rules.facts import StudentFacts

# --- verdicts ------------------------------------------------------------------------------


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
            data["requirement"] = self.requirement.to_data()
        return data


# (met, progress, state) of a leaf: what a verdict needs. Every leaf is met exactly when it is
# done, and a met leaf's progress is 1.
LeafVerdict = tuple[bool, float, State]
LEAF_DONE: LeafVerdict = (True, 1.0, State.DONE)
LEAF_NOT_STARTED: LeafVerdict = (False, 0.0, State.NOT_STARTED)
LEAF_STARTED: LeafVerdict = (False, 0.0, State.IN_PROGRESS)

# A verdict on a node: (met, progress, weight, state), weight being how many leaves must be
# met to meet it. A group combines its children's with ``Group.combine``.
NodeVerdict = tuple[bool, float, int, State]

# A requirement prepared to judge many students: (facts, states) -> NodeVerdict, appending
# each leaf's state to ``states`` in tree order (see ``engine.Judge``).
Compiled = Callable[[StudentFacts, list[State]], NodeVerdict]


def format_score(score: float) -> str:
    """A percentage as a student reads it: ``70%``, ``85.5%``."""
    return f"{score:.0f}%" if float(score).is_integer() else f"{score:.1f}%"


def named(code: str, titles: Mapping[str, str]) -> str:
    """A module or course as a sentence names it: ``Word parts (T-1)``, or its bare code."""
    title = titles.get(code)
    return f"{title} ({code})" if title else code


def is_number(value: Any) -> bool:
    """True for an int or a float from JSON (not a bool, which Python counts as an int)."""
    return not isinstance(value, bool) and isinstance(value, int | float)


def is_whole(value: Any, low: int, high: int) -> bool:
    """True for a whole number from ``low`` to ``high`` (not a bool)."""
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def is_code(value: Any) -> bool:
    """True for a non-blank string: a module or course code as the tree names it."""
    return isinstance(value, str) and bool(value.strip())


# --- reading trees -----------------------------------------------------------------------


class RequirementError(ValueError):
    """A requirement tree that cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


#: Every kind of requirement by its JSON ``type``; ``@kind`` adds one.
KINDS: dict[str, type[Requirement]] = {}


def kind(cls: type[Requirement]) -> type[Requirement]:
    """Register a kind of requirement under its ``TYPE`` (a class decorator)."""
    KINDS[cls.TYPE] = cls
    return cls


@dataclass(frozen=True)
class Reading:
    """Where the reader is in a tree's JSON form, and every problem found so far."""

    path: str
    problems: list[str]

    def problem(self, message: str) -> None:
        """Note a problem with the node read here."""
        self.problems.append(f"{self.path}: {message}")

    def node(self, data: Any) -> Requirement | None:
        """The requirement ``data`` describes, of whatever kind its ``type`` names."""
        if not isinstance(data, Mapping):
            self.problem("expected an object")
            return None
        name = data.get("type")
        requirement = KINDS.get(name) if isinstance(name, str) else None
        if requirement is None:
            self.problem(f"unknown requirement type {name!r}")
            return None
        return requirement.read(data, self)

    def child(self, data: Any, group: str, index: int) -> Requirement | None:
        """The ``index``-th child of a group of kind ``group``."""
        return Reading(f"{self.path}.{group}[{index}]", self.problems).node(data)


# --- what a tree needs -----------------------------------------------------------------


def _merged(first: tuple, second: tuple) -> tuple:
    return tuple(dict.fromkeys(first + second)) if second else first


@dataclass(frozen=True)
class Needs:
    """What judging a tree needs from the world, in tree order without repeats: the modules
    and courses it names (which must exist), and which facts to gather."""

    modules: tuple[str, ...] = ()  # completed or scored modules
    courses: tuple[str, ...] = ()  # courses to complete
    assessed: tuple[str, ...] = ()  # modules whose every scored attempt counts
    hour_courses: tuple[str, ...] = ()  # courses whose own contact hours count
    hours: bool = False  # contact hours at all
    evidence: bool = False  # evidence and experience

    def __or__(self, other: Needs) -> Needs:
        return Needs(
            _merged(self.modules, other.modules),
            _merged(self.courses, other.courses),
            _merged(self.assessed, other.assessed),
            _merged(self.hour_courses, other.hour_courses),
            self.hours or other.hours,
            self.evidence or other.evidence,
        )


# --- the kinds of node ---------------------------------------------------------------------


class Requirement:
    """A node of a requirement tree: a leaf (something a student does or shows) or a group."""

    TYPE: ClassVar[str]  # its ``type`` in the JSON form

    @classmethod
    def read(cls, data: Mapping[str, Any], at: Reading) -> Requirement | None:
        """The node from its JSON form, or None with the problems noted ``at`` the reading."""
        raise NotImplementedError

    def to_data(self) -> dict[str, Any]:
        """The JSON form (the inverse of ``read``)."""
        raise NotImplementedError

    def leaves(self) -> list[Leaf]:
        """Every leaf under this node, in order."""
        raise NotImplementedError

    def needs(self) -> Needs:
        """What judging this node needs gathered."""
        raise NotImplementedError


class Standing(NamedTuple):
    """A leaf's verdict with its score and date, as ``explain`` finds them, without the
    sentence: what a cell of a progress matrix shows."""

    met: bool
    progress: float
    state: State
    score: float | None = None
    achieved_on: date | None = None
    overridden: bool = False


class Leaf(Requirement):
    """A requirement a student meets by doing or showing something."""

    @property
    def key(self) -> str:
        """The stable key of the leaf: names a matrix column and an override in
        ``StudentFacts.overrides`` (a module code, ``evidence:<kind>``, ``score:<module>`` ...)."""
        raise NotImplementedError

    def verdict(self, facts: StudentFacts) -> LeafVerdict:
        """Met or not, progress and state, without the sentence (the fast judge's part)."""
        raise NotImplementedError

    def explain(self, facts: StudentFacts, titles: Mapping[str, str]) -> Outcome:
        """The verdict with the sentence a student reads: what is done, or what is missing."""
        raise NotImplementedError

    def standing(self, facts: StudentFacts) -> Standing | None:
        """``explain`` without the sentence, where a kind can give it faster; None sends the
        caller to ``explain``."""
        return None

    def heading(self, titles: Mapping[str, str]) -> tuple[str, str]:
        """(short label, long title) of the leaf, for a column of a progress matrix."""
        raise NotImplementedError

    def name(self, titles: Mapping[str, str]) -> str:
        """How a sentence about an instructor's override names the leaf."""
        return self.heading(titles)[1]

    def leaves(self) -> list[Leaf]:
        """The leaf itself."""
        return [self]

    #: An ``all_of`` of this kind only may be judged by one function instead of a call per
    #: leaf: ``compile_all_of(leaves, general)`` returns it (``general`` judges the group
    #: the usual way, for the students it does not handle).
    compile_all_of: ClassVar[Callable[[Sequence[Any], Compiled], Compiled] | None] = None


class Group(Requirement):
    """A requirement over others: met when enough of its children are."""

    children: tuple[Requirement, ...]
    label: str | None

    @classmethod
    def read(cls, data: Mapping[str, Any], at: Reading) -> Requirement | None:
        """``{"type": ..., "children": [...], "label": ...}`` (the label optional)."""
        children, label = cls.read_children(data, at)
        return None if children is None else cls(children, label)

    @classmethod
    def read_children(
        cls, data: Mapping[str, Any], at: Reading
    ) -> tuple[tuple[Requirement, ...] | None, Any]:
        """The group's children, or None when any cannot be read; and its label."""
        raw = data.get("children")
        if not isinstance(raw, list) or not raw:
            at.problem(f"{cls.TYPE} needs a non-empty list of children")
            return None, None
        parsed = [at.child(child, cls.TYPE, index) for index, child in enumerate(raw)]
        if any(child is None for child in parsed):
            return None, None
        return tuple(child for child in parsed if child is not None), data.get("label")

    def own_data(self) -> dict[str, Any]:
        """What the JSON form says besides the type, the children and the label."""
        return {}

    def to_data(self) -> dict[str, Any]:
        """The JSON form: type, the group's own fields, children, and the label if any."""
        data: dict[str, Any] = {
            "type": self.TYPE,
            **self.own_data(),
            "children": [child.to_data() for child in self.children],
        }
        if self.label:
            data["label"] = self.label
        return data

    def leaves(self) -> list[Leaf]:
        """Every leaf under the group, in order."""
        return [leaf for child in self.children for leaf in child.leaves()]

    def needs(self) -> Needs:
        """What the children need."""
        needs = Needs()
        for child in self.children:
            needs = needs | child.needs()
        return needs

    def combine(self, children: Sequence[NodeVerdict]) -> tuple[NodeVerdict, int]:
        """The group's verdict from its children's, and how many children are met."""
        raise NotImplementedError

    def summary(self, total: int, done: int) -> str:
        """How the group reads in a sentence: ``all 3 required, 1 done``."""
        raise NotImplementedError

    def compile(self, general: Compiled) -> Compiled:
        """The fast judge of the group: ``general`` (each child judged, then combined), unless
        the group knows a quicker way to the same verdict."""
        return general

    def explain(self, children: tuple[Outcome, ...]) -> Outcome:
        """The group's outcome from its children's."""
        (met, progress, weight, state), done = self.combine(
            [(c.met, c.progress, c.weight, c.state) for c in children]
        )
        prefix = f"{self.label}: " if self.label else ""
        return Outcome(
            self,
            met,
            progress,
            prefix + self.summary(len(children), done),
            children,
            state=state,
            weight=weight,
        )


def verdict_of_share(
    counted: Sequence[NodeVerdict], children: Sequence[NodeVerdict], met: bool
) -> NodeVerdict:
    """A group's verdict from the children that count toward it.

    Progress is the share of the needed leaves that are met, so one module of seven done
    reads 14% however the modules are grouped."""
    weight = sum(c[2] for c in counted)
    if met:
        return True, 1.0, weight, State.DONE
    progress = min(1.0, max(0.0, sum(c[1] * c[2] for c in counted) / weight))
    started = any(c[3] is not State.NOT_STARTED for c in children)
    return False, progress, weight, State.IN_PROGRESS if started else State.NOT_STARTED
