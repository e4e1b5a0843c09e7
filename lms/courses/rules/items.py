"""Item analysis: classical test statistics of a quiz's questions."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Response:
    """One student's answer to a question inside an attempt with a total score."""

    attempt_id: int
    question_id: int
    chosen_ids: frozenset[int]
    is_correct: bool
    attempt_score: float  # the attempt's score in percent


@dataclass(frozen=True)
class ItemStats:
    """Classical test statistics for one question."""

    question_id: int
    answered: int
    share_correct: float | None  # difficulty index p, 0..1
    discrimination: float | None  # point-biserial correlation with the attempt score
    choice_counts: Mapping[int, int]  # how often each choice was picked


def point_biserial(pairs: Sequence[tuple[bool, float]]) -> float | None:
    """Correlation between getting an item right and the total score; ``None`` when it is
    undefined (fewer than two answers, everyone right or wrong, or no spread of scores)."""
    n = len(pairs)
    if n < 2:
        return None
    right = [score for ok, score in pairs if ok]
    wrong = [score for ok, score in pairs if not ok]
    if not right or not wrong:
        return None
    mean = sum(score for _, score in pairs) / n
    sd = math.sqrt(sum((score - mean) ** 2 for _, score in pairs) / n)
    if sd == 0:
        return None
    p = len(right) / n
    m1 = sum(right) / len(right)
    m0 = sum(wrong) / len(wrong)
    return round((m1 - m0) / sd * math.sqrt(p * (1 - p)), 4)


def item_statistics(responses: Sequence[Response]) -> list[ItemStats]:
    """Per question: answered count, share correct, discrimination, choice frequencies.

    Unanswered questions (no choice picked) count as not answered."""
    by_question: dict[int, list[Response]] = {}
    for response in responses:
        by_question.setdefault(response.question_id, []).append(response)
    stats = []
    for question_id, items in sorted(by_question.items()):
        answered = [r for r in items if r.chosen_ids]
        counts: dict[int, int] = {}
        for r in answered:
            for choice_id in r.chosen_ids:
                counts[choice_id] = counts.get(choice_id, 0) + 1
        share = round(sum(r.is_correct for r in answered) / len(answered), 4) if answered else None
        stats.append(
            ItemStats(
                question_id,
                len(answered),
                share,
                point_biserial([(r.is_correct, r.attempt_score) for r in answered]),
                counts,
            )
        )
    return stats
