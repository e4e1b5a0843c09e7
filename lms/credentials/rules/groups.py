"""The groups of a requirement tree: every child, at least one, or at least ``n`` of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lms.credentials.rules.nodes import (
    Compiled,
    Group,
    NodeVerdict,
    Reading,
    Requirement,
    is_whole,
    kind,
    verdict_of_share,
)


@kind
@dataclass(frozen=True)
class AllOf(Group):
    """Every child must be met."""

    children: tuple[Requirement, ...]
    label: str | None = None

    TYPE = "all_of"

    def combine(self, children: Sequence[NodeVerdict]) -> tuple[NodeVerdict, int]:
        """Met when every child is; every child counts toward progress."""
        done = sum(1 for child in children if child[0])
        return verdict_of_share(children, children, done == len(children)), done

    def summary(self, total: int, done: int) -> str:
        """``all 3 required, 1 done``."""
        return f"all {total} required, {done} done"

    def compile(self, general: Compiled) -> Compiled:
        """Children all of one kind that judges a list of its own in one go (modules) are
        judged that way."""
        kinds = {type(child) for child in self.children}
        quick = getattr(kinds.pop(), "compile_all_of", None) if len(kinds) == 1 else None
        return general if quick is None else quick(self.children, general)


@kind
@dataclass(frozen=True)
class AnyOf(Group):
    """At least one child must be met."""

    children: tuple[Requirement, ...]
    label: str | None = None

    TYPE = "any_of"

    def combine(self, children: Sequence[NodeVerdict]) -> tuple[NodeVerdict, int]:
        """Met when one child is; the child furthest on (and lightest) counts."""
        done = sum(1 for child in children if child[0])
        counted = [max(children, key=lambda c: (c[1], -c[2]))]
        return verdict_of_share(counted, children, done >= 1), done

    def summary(self, total: int, done: int) -> str:
        """``one of 3 required, 1 done``."""
        return f"one of {total} required, {done} done"


@kind
@dataclass(frozen=True)
class NOf(Group):
    """At least ``n`` children must be met."""

    n: int
    children: tuple[Requirement, ...]
    label: str | None = None

    TYPE = "n_of"

    @classmethod
    def read(cls, data: Mapping[str, Any], at: Reading) -> NOf | None:
        """``{"type": "n_of", "n": 2, "children": [...]}``, with n from 1 to the children."""
        children, label = cls.read_children(data, at)
        if children is None:
            return None
        n = data.get("n")
        if not is_whole(n, 1, len(children)):
            at.problem(f"n_of needs n between 1 and {len(children)}")
            return None
        return cls(n, children, label)

    def own_data(self) -> dict[str, Any]:
        """``n``."""
        return {"n": self.n}

    def combine(self, children: Sequence[NodeVerdict]) -> tuple[NodeVerdict, int]:
        """Met when ``n`` children are; the ``n`` furthest on (and lightest) count."""
        done = sum(1 for child in children if child[0])
        counted = sorted(children, key=lambda c: (-c[1], c[2]))[: self.n]
        return verdict_of_share(counted, children, done >= self.n), done

    def summary(self, total: int, done: int) -> str:
        """``2 of 3 required, 1 done``."""
        return f"{self.n} of {total} required, {done} done"
