"""Grading an attempt's answers, and what its result page shows: areas and review."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class QuestionKey:
    """A question as the grader sees it: its choices and which of them are correct."""

    question_id: int
    choice_ids: frozenset[int]
    correct_ids: frozenset[int]


@dataclass(frozen=True)
class QuestionResult:
    """How one question was answered."""

    question_id: int
    chosen_ids: frozenset[int]
    is_correct: bool


@dataclass(frozen=True)
class Grade:
    """The result of a whole attempt."""

    correct: int
    total: int
    score: float  # percent, 0..100
    passed: bool
    results: tuple[QuestionResult, ...]


class AnswerError(ValueError):
    """Answers that do not belong to the quiz; ``problems`` lists every one, as sentences."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = list(problems)


def check_answers(keys: Sequence[QuestionKey], answers: Mapping[int, frozenset[int]]) -> None:
    """Raise ``AnswerError`` for questions not in the quiz or choices not in their question."""
    by_id = {key.question_id: key for key in keys}
    problems = []
    for question_id, chosen in answers.items():
        key = by_id.get(question_id)
        if key is None:
            problems.append(f"Question {question_id} is not part of this quiz.")
        elif not chosen <= key.choice_ids:
            unknown = ", ".join(str(c) for c in sorted(chosen - key.choice_ids))
            problems.append(f"Choice {unknown} does not belong to question {question_id}.")
    if problems:
        raise AnswerError(problems)


def grade(
    keys: Sequence[QuestionKey], answers: Mapping[int, frozenset[int]], passing_score: float
) -> Grade:
    """Grade answers: a question is right when exactly its correct choices were picked."""
    check_answers(keys, answers)
    results = tuple(
        QuestionResult(
            key.question_id,
            answers.get(key.question_id, frozenset()),
            answers.get(key.question_id, frozenset()) == key.correct_ids,
        )
        for key in keys
    )
    correct = sum(1 for result in results if result.is_correct)
    total = len(keys)
    score = round(100 * correct / total, 2) if total else 0.0
    return Grade(correct, total, score, score >= passing_score, results)


@dataclass(frozen=True)
class AreaScore:
    """Score on the questions of one content area."""

    area: str
    correct: int
    total: int

    @property
    def score(self) -> float:
        """Percent correct in this area."""
        return round(100 * self.correct / self.total, 2) if self.total else 0.0


def scores_by_area(results: Sequence[tuple[str, bool]]) -> list[AreaScore]:
    """(area, correct) per question in, one score per area out, weakest area first."""
    tally: dict[str, list[int]] = {}
    for area, correct in results:
        counts = tally.setdefault(area or "General", [0, 0])
        counts[0] += int(correct)
        counts[1] += 1
    areas = [AreaScore(area, c, t) for area, (c, t) in tally.items()]
    return sorted(areas, key=lambda a: (a.score, a.area))


def may_review(policy: str, passed: bool | None) -> bool:
    """Whether the correct answers and rationales may be shown for an attempt."""
    if policy == "after_attempt":
        return True
    if policy == "after_passing":
        return bool(passed)
    return False
