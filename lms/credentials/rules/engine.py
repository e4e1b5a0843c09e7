"""The engine: read a tree from its JSON form, judge it against a student's facts (with every
sentence, or verdicts only for many students at once), and list what it names. It walks the
tree; what each kind of node means is the node's own business (see ``nodes.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from lms.credentials.rules.facts import StudentFacts
from lms.credentials.rules.nodes import (
    LEAF_DONE,
    LEAF_NOT_STARTED,
    Compiled,
    Group,
    Leaf,
    NodeVerdict,
    Outcome,
    Reading,
    Requirement,
    RequirementError,
    Standing,
    State,
)

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


def parse_requirements(data: Any) -> Requirement:
    """Build a requirement tree from its JSON form, or raise with every problem found."""
    if _depth(data) > MAX_DEPTH:
        raise RequirementError([f"root: the tree is nested deeper than {MAX_DEPTH} levels"])
    problems: list[str] = []
    tree = Reading("root", problems).node(data)
    if problems or tree is None:
        raise RequirementError(problems or ["the tree is empty"])
    return tree


def requirement_to_data(requirement: Requirement) -> dict[str, Any]:
    """The JSON form of a requirement tree (the inverse of ``parse_requirements``)."""
    return requirement.to_data()


def leaves(requirement: Requirement) -> list[Leaf]:
    """Every leaf of the tree, in order."""
    return requirement.leaves()


def leaf_key(leaf: Leaf) -> str:
    """The stable key of a leaf (see ``Leaf.key``)."""
    return leaf.key


def leaf_heading(leaf: Leaf, titles: Mapping[str, str]) -> tuple[str, str, str]:
    """(key, short label, long title) of a leaf, for a column of a progress matrix."""
    return (leaf.key, *leaf.heading(titles))


def module_codes(requirement: Requirement) -> list[str]:
    """The module codes the tree names, in order, without repeats."""
    return list(requirement.needs().modules)


# --- judging, with every sentence ------------------------------------------------------------


def _override_verdict(met: bool) -> tuple[bool, float, State]:
    return LEAF_DONE if met else LEAF_NOT_STARTED


def evaluate(
    requirement: Requirement, facts: StudentFacts, module_titles: Mapping[str, str]
) -> Outcome:
    """Judge ``requirement`` against ``facts``; titles name modules in the explanations."""
    if isinstance(requirement, Group):
        children = tuple(evaluate(c, facts, module_titles) for c in requirement.children)
        return requirement.explain(children)
    met = facts.overrides.get(requirement.key) if facts.overrides else None
    if met is None:
        return requirement.explain(facts, module_titles)
    name = requirement.name(module_titles)
    said = "marked met" if met else "marked not met"
    met, progress, state = _override_verdict(met)
    return Outcome(
        requirement,
        met,
        progress,
        f"{name}: {said} by your instructor",
        state=state,
        overridden=True,
    )


def standing(leaf: Leaf, facts: StudentFacts) -> Standing | None:
    """What ``evaluate`` finds of one leaf (an instructor's override included) without its
    sentence, where the leaf's kind can say it faster; None: ``evaluate`` the leaf."""
    met = facts.overrides.get(leaf.key) if facts.overrides else None
    if met is None:
        return leaf.standing(facts)
    met, progress, state = _override_verdict(met)
    return Standing(met, progress, state, overridden=True)


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
    ``evaluate(tree, facts, titles)``; the leaves give the same verdicts, and the groups
    combine them the same way. What it skips is the sentences and the result tree, which is
    most of the cost for a cohort of a thousand students: explain only the students shown,
    with ``evaluate``."""

    def __init__(self, tree: Requirement) -> None:
        self.tree = tree
        self.leaves = leaves(tree)
        self._root = _compile(tree)

    def __call__(self, facts: StudentFacts) -> Verdict:
        states: list[State] = []
        met, progress, _, _ = self._root(facts, states)
        return Verdict(met, progress, tuple(states))


def _compile(node: Requirement) -> Compiled:
    if isinstance(node, Group):
        return _compile_group(node)
    key = node.key
    verdict = node.verdict

    def judge_leaf(facts: StudentFacts, states: list[State]) -> NodeVerdict:
        override = facts.overrides.get(key) if facts.overrides else None
        met, progress, state = verdict(facts) if override is None else _override_verdict(override)
        states.append(state)
        return met, progress, 1, state

    return judge_leaf


def _compile_group(node: Group) -> Compiled:
    children = [_compile(child) for child in node.children]
    combine = node.combine

    def judge_group(facts: StudentFacts, states: list[State]) -> NodeVerdict:
        return combine([child(facts, states) for child in children])[0]

    return node.compile(judge_group)
