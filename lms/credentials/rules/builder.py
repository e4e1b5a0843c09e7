"""The requirement builder: a tree's JSON form edited a node at a time, an outline of it in
sentences, and a readable difference between two versions.

Pure, like the rest of the rules: the builder works on the JSON form (dicts and lists), so a
draft may be half-built (a group not yet given its children) and still be shown; saving reads
the whole tree with ``parse_requirements`` as always. A node is found by its path, the
positions of the children leading to it from the root, written ``"0.2"``; the root is ``""``.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lms.credentials.rules.nodes import KINDS, Leaf, Reading

#: The group kinds and how the outline names them.
GROUP_TYPES = ("all_of", "any_of", "n_of")


@dataclass(frozen=True)
class OutlineRow:
    """One node of a draft as the builder shows it."""

    path: str
    depth: int
    text: str
    is_group: bool


def _label(data: Mapping[str, Any]) -> str:
    label = data.get("label")
    return f" ({label})" if isinstance(label, str) and label.strip() else ""


def node_sentence(data: Any, titles: Mapping[str, str]) -> str:
    """One node in words: ``All of (Coursework):``, ``Pass Word parts (T-1), 70% or more``;
    a node that cannot be read says so with the reason."""
    if not isinstance(data, Mapping):
        return "(not a requirement: expected an object)"
    kind = data.get("type")
    if kind in GROUP_TYPES:
        count = len(data["children"]) if isinstance(data.get("children"), list) else 0
        empty = " (no requirements in it yet)" if not count else ""
        if kind == "all_of":
            return f"All of{_label(data)}:{empty}"
        if kind == "any_of":
            return f"Any one of{_label(data)}:{empty}"
        return f"At least {data.get('n')!s} of{_label(data)}:{empty}"
    problems: list[str] = []
    node = Reading("node", problems).node(data)
    if not isinstance(node, Leaf):
        reason = "; ".join(p.removeprefix("node: ") for p in problems) or "unreadable"
        return f"(cannot be read: {reason})"
    return node.heading(titles)[1]


def outline(data: Any, titles: Mapping[str, str]) -> list[OutlineRow]:
    """Every node of a draft in tree order, each with its path, depth and sentence."""
    if data is None:
        return []
    rows: list[OutlineRow] = []
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        is_group = isinstance(node, Mapping) and node.get("type") in GROUP_TYPES
        rows.append(OutlineRow(path, depth, node_sentence(node, titles), is_group))
        if is_group and isinstance(node.get("children"), list):
            for index in reversed(range(len(node["children"]))):
                child_path = f"{path}.{index}" if path else str(index)
                stack.append((node["children"][index], child_path, depth + 1))
    return rows


def outline_lines(data: Any, titles: Mapping[str, str]) -> list[str]:
    """The outline as indented lines of text, the form the difference is taken on."""
    return [f"{'  ' * row.depth}{row.text}" for row in outline(data, titles)]


def _steps(path: str) -> list[int] | None:
    if path == "":
        return []
    try:
        return [int(step) for step in path.split(".")]
    except ValueError:
        return None


def _find(data: Any, path: str) -> Any:
    """The node at ``path``, or None when there is none."""
    steps = _steps(path)
    if steps is None:
        return None
    node = data
    for step in steps:
        children = node.get("children") if isinstance(node, Mapping) else None
        if not isinstance(children, list) or not 0 <= step < len(children):
            return None
        node = children[step]
    return node


def group_paths(data: Any) -> list[str]:
    """The paths of every group of a draft: where a new requirement may go."""
    if data is None:
        return []
    return [row.path for row in outline(data, {}) if row.is_group]


def new_node(
    kind: str,
    *,
    module: str = "",
    course: str = "",
    min_score: float | None = None,
    within_days: int | None = None,
    evidence: str = "",
    months: int | None = None,
    hours: float | None = None,
    n: int | None = None,
    label: str = "",
) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """The JSON form of a new node from the builder's fields, or None with every problem as
    (message, field). A new group starts empty: its children are added next."""
    problems: list[tuple[str, str]] = []
    if kind in GROUP_TYPES:
        data: dict[str, Any] = {"type": kind, "children": []}
        if kind == "n_of":
            if n is None or n < 1:
                problems.append(("Say how many of the group must be met (1 or more).", "n"))
            data["n"] = n
        if label.strip():
            data["label"] = label.strip()[:200]
        return (None, problems) if problems else (data, [])
    if kind not in KINDS:
        return None, [("Choose a kind of requirement.", "kind")]
    fields = {
        "module_completed": {"module": module, "min_score": min_score},
        "course_completed": {"course": course},
        "assessment_score": {"module": module, "min_score": min_score, "within_days": within_days},
        "contact_hours": {"hours": hours, "course": course or None},
        "evidence": {"kind": evidence},
        "experience_months": {"min_months": months},
    }.get(kind, {})
    given = {key: value for key, value in fields.items() if value not in ("", None)}
    data = {"type": kind, **given}
    reading: list[str] = []
    Reading("node", reading).node(data)
    for message in reading:
        field = _field_of(message)
        problems.append((FIELD_MESSAGES[field], field))
    return (None, problems) if problems else (data, [])


#: What the builder says beside a field a new leaf cannot be read with.
FIELD_MESSAGES = {
    "module": "Choose a module.",
    "course": "Choose a course.",
    "min_score": "A score is a number from 0 to 100.",
    "within_days": "Give the days as a whole number from 1 to 3650.",
    "hours": "Give the hours, more than 0.",
    "months": "Give the months as a whole number from 1 to 600.",
    "evidence": "Choose a kind of evidence.",
    "kind": "Choose a kind of requirement.",
}


def _field_of(message: str) -> str:
    """The builder field a leaf's reading problem is about."""
    for word, field in (
        ("min_score", "min_score"),
        ("within_days", "within_days"),
        ("module", "module"),
        ("course", "course"),
        ("hours", "hours"),
        ("months", "months"),
        ("kind", "evidence"),
    ):
        if word in message:
            return field
    return "kind"


def add_node(data: Any, parent: str, node: dict[str, Any]) -> Any:
    """A copy of the draft with ``node`` added as the last child of the group at ``parent``.

    An empty draft takes a group as its root, and wraps a first leaf in an ``all_of``; a draft
    whose root is a leaf is wrapped in an ``all_of`` beside the new node."""
    if data is None:
        return node if node["type"] in GROUP_TYPES else {"type": "all_of", "children": [node]}
    target = _find(data, parent)
    if parent == "" and not (isinstance(target, Mapping) and target.get("type") in GROUP_TYPES):
        return {"type": "all_of", "children": [copy.deepcopy(data), node]}
    if not (isinstance(target, Mapping) and target.get("type") in GROUP_TYPES):
        raise KeyError(parent)
    draft = copy.deepcopy(data)
    group = _find(draft, parent)
    if not isinstance(group.get("children"), list):
        group["children"] = []
    group["children"].append(node)
    return draft


def remove_node(data: Any, path: str) -> Any:
    """A copy of the draft without the node at ``path`` (and what is under it); removing the
    root empties the draft (None)."""
    if path == "":
        return None
    if _find(data, path) is None:
        raise KeyError(path)
    draft = copy.deepcopy(data)
    parent_path, _, index = path.rpartition(".")
    del _find(draft, parent_path)["children"][int(index)]
    return draft


@dataclass(frozen=True)
class DiffLine:
    """One line of a readable difference: ``+`` added, ``-`` removed, ``" "`` kept."""

    sign: str
    text: str


def difference(old: list[str], new: list[str]) -> list[DiffLine]:
    """The lines of ``new`` against ``old``: what was removed, added and kept, in order."""
    lines = []
    for entry in difflib.ndiff(old, new):
        sign, text = entry[0], entry[2:]
        if sign in "+- ":
            lines.append(DiffLine(sign, text))
    return lines


def depth(data: Any) -> int:
    """How many levels the draft's groups nest (0 for an empty draft)."""
    return max((row.depth + 1 for row in outline(data, {})), default=0)


def is_group(data: Any) -> bool:
    """True for the JSON form of a group."""
    return isinstance(data, Mapping) and data.get("type") in GROUP_TYPES


__all__ = [
    "GROUP_TYPES",
    "DiffLine",
    "OutlineRow",
    "add_node",
    "depth",
    "difference",
    "group_paths",
    "is_group",
    "new_node",
    "node_sentence",
    "outline",
    "outline_lines",
    "remove_node",
]
