"""Drawing an attempt's questions from a bank by blueprint, and shuffling their choices."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from lms.errors import Problem


@dataclass(frozen=True)
class BlueprintRow:
    """Draw ``count`` questions carrying ``tag`` (a content area or a tag)."""

    tag: str
    count: int


@dataclass(frozen=True)
class PoolQuestion:
    """A question the drawer may pick: its id and every label it carries."""

    question_id: int
    labels: frozenset[str]


def labels_of(content_area: str, tags: Sequence[str]) -> frozenset[str]:
    """What a blueprint row can ask of a question: its content area and every tag."""
    return frozenset(label for label in (content_area, *tags) if label)


class DrawError(ValueError):
    """The bank cannot satisfy the blueprint; ``problems`` lists every short row."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = list(problems)


class RandomSource(Protocol):
    """What the drawer needs of a random source (``random.Random`` has it)."""

    def sample(self, population: Sequence[Any], k: int) -> list[Any]:
        """``k`` distinct members of ``population``."""

    def shuffle(self, x: list[Any]) -> None:
        """Shuffle ``x`` in place."""


def draw_questions(
    blueprint: Sequence[BlueprintRow],
    pool: Sequence[PoolQuestion],
    rng: RandomSource,
    met: Collection[int] = frozenset(),
) -> list[int]:
    """Draw ``count`` distinct questions per row, never the same question twice, in random
    order; raise ``DrawError`` naming every row the pool cannot fill.

    Questions in ``met`` (the student's earlier attempts at this quiz) are drawn only when a
    row's fresh questions run out, so a bank that holds two sittings gives a second attempt
    none of the first one's questions."""
    taken: set[int] = set()
    drawn: list[int] = []
    problems = []
    for row in blueprint:
        wanted = row.tag.strip().lower()
        candidates = [
            q.question_id
            for q in pool
            if q.question_id not in taken and wanted in {label.lower() for label in q.labels}
        ]
        if len(candidates) < row.count:
            problems.append(
                f"{row.count} questions tagged {row.tag!r} are needed, "
                f"the bank has {len(candidates)}."
            )
            continue
        fresh = [c for c in candidates if c not in met]
        if len(fresh) >= row.count:
            picked = rng.sample(fresh, row.count)
        else:
            again = [c for c in candidates if c in met]
            picked = fresh + rng.sample(again, row.count - len(fresh))
        taken.update(picked)
        drawn.extend(picked)
    if problems:
        raise DrawError(problems)
    rng.shuffle(drawn)
    return drawn


class _FirstOnes:
    """A random source that takes the first candidates: enough to see whether a blueprint
    can be filled."""

    def sample(self, population: Sequence[Any], k: int) -> list[Any]:
        """The first ``k`` of ``population``."""
        return list(population)[:k]

    def shuffle(self, x: list[Any]) -> None:
        """Leave ``x`` as it is."""


def shortfalls(blueprint: Sequence[BlueprintRow], pool: Sequence[PoolQuestion]) -> list[str]:
    """Every row the pool cannot fill now (a dry run: the draw itself happens per attempt)."""
    try:
        draw_questions(blueprint, pool, _FirstOnes())
    except DrawError as error:
        return error.problems
    return []


def shuffle_choices(choice_ids: Sequence[int], rng: RandomSource, keep_order: bool) -> list[int]:
    """The order a question's choices are shown in (true/false keeps its order)."""
    order = list(choice_ids)
    if not keep_order:
        rng.shuffle(order)
    return order


def parse_blueprint(rows: Sequence[Mapping]) -> list[BlueprintRow]:
    """Blueprint rows from their JSON form, refusing empty tags and counts below one."""
    parsed = []
    problems = []
    for index, row in enumerate(rows, start=1):
        tag = str(row.get("tag", "")).strip()
        count = row.get("count")
        if not tag:
            problems.append(f"Row {index}: a tag is needed.")
        elif isinstance(count, bool) or not isinstance(count, int) or count < 1:
            problems.append(f"Row {index}: the count must be a whole number of at least 1.")
        else:
            parsed.append(BlueprintRow(tag, count))
    if problems:
        raise DrawError(problems)
    return parsed


def parse_blueprint_text(text: str) -> tuple[list[BlueprintRow], list[Problem]]:
    """``tag: count`` per line into blueprint rows, and a problem (on the ``blueprint`` field)
    for every malformed line."""
    rows, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        tag, sep, count = line.rpartition(":")
        count = count.strip()
        # ASCII digits only ("²" passes isdigit, not int), and no more than a bank could hold.
        wanted = int(count) if count.isascii() and count.isdigit() and len(count) <= 6 else 0
        if not sep or not tag.strip() or wanted < 1:
            problems.append(
                Problem(f"Line {number}: write 'tag: number', e.g. 'ICD-10-CM: 10'.", "blueprint")
            )
        else:
            rows.append(BlueprintRow(tag.strip(), wanted))
    return rows, problems


def blueprint_text(rows: Sequence[BlueprintRow]) -> str:
    """The blueprint as the settings form shows it: ``tag: count`` per line."""
    return "\n".join(f"{row.tag}: {row.count}" for row in rows)
