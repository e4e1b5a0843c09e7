"""Grading an attempt's answers, and what its result page shows: areas and review."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lms.courses.rules import code_entry

# A question's answer: the choices picked, or for a code-entry question the text typed in each
# of its boxes.
Answer = frozenset[int] | tuple[str, ...]


@dataclass(frozen=True)
class QuestionKey:
    """A question as the grader sees it: its choices and which of them are correct."""

    question_id: int
    choice_ids: frozenset[int]
    correct_ids: frozenset[int]
    boxes: tuple[code_entry.Box, ...] | None = None  # a code-entry question's keyed boxes


@dataclass(frozen=True)
class QuestionResult:
    """How one question was answered: right or not, and the credit earned (0..1: a
    code-entry question earns partial credit, a choice question 0 or 1)."""

    question_id: int
    chosen_ids: frozenset[int]
    is_correct: bool
    credit: float = 0.0
    codes: code_entry.QuestionScore | None = None


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


class CodeEntryError(AnswerError):
    """Codes typed in a question's boxes that cannot be taken (too many, or unreadable at
    submission); the answers otherwise belong to the quiz."""


def check_answers(
    keys: Sequence[QuestionKey], answers: Mapping[int, Answer], *, strict: bool = False
) -> None:
    """Raise ``AnswerError`` for questions not in the quiz, choices not in their question, or
    code boxes that are not the question's (too many codes; with ``strict``, at submission,
    codes that cannot be read)."""
    by_id = {key.question_id: key for key in keys}
    problems, code_problems = [], []
    for question_id, chosen in answers.items():
        key = by_id.get(question_id)
        if key is None:
            problems.append(f"Question {question_id} is not part of this quiz.")
        elif key.boxes is not None or isinstance(chosen, tuple):
            if key.boxes is None or not isinstance(chosen, tuple):
                problems.append(f"Question {question_id} was not answered in its own form.")
            else:
                code_problems += code_entry.typed_problems(key.boxes, chosen, strict=strict)
        elif not chosen <= key.choice_ids:
            unknown = ", ".join(str(c) for c in sorted(chosen - key.choice_ids))
            problems.append(f"Choice {unknown} does not belong to question {question_id}.")
    if problems:
        raise AnswerError(problems)
    if code_problems:
        raise CodeEntryError(code_problems)


def grade(
    keys: Sequence[QuestionKey], answers: Mapping[int, Answer], passing_score: float
) -> Grade:
    """Grade answers: a choice question is right when exactly its correct choices were
    picked; a code-entry question earns the credit its boxes score (``code_entry``). The
    score is the credit earned over the questions, in percent."""
    check_answers(keys, answers)
    results = tuple(_result(key, answers.get(key.question_id)) for key in keys)
    correct = sum(1 for result in results if result.is_correct)
    total = len(keys)
    earned = sum(result.credit for result in results)
    score = round(100 * earned / total, 2) if total else 0.0
    return Grade(correct, total, score, score >= passing_score, results)


def is_answered(answer: Answer | None) -> bool:
    """Whether an answer says anything: a choice picked, or a code typed in a box."""
    if isinstance(answer, tuple):
        return any(text.strip() for text in answer)
    return bool(answer)


def _result(key: QuestionKey, answer: Answer | None) -> QuestionResult:
    if key.boxes is not None:
        typed = answer if isinstance(answer, tuple) else ()
        codes = code_entry.score_question(key.boxes, typed)
        return QuestionResult(key.question_id, frozenset(), codes.is_correct, codes.credit, codes)
    chosen = answer if isinstance(answer, frozenset) else frozenset()
    right = chosen == key.correct_ids
    return QuestionResult(key.question_id, chosen, right, 1.0 if right else 0.0)


@dataclass(frozen=True)
class AreaScore:
    """Score on the questions of one content area."""

    area: str
    correct: float  # questions right, with a code-entry question's partial credit
    total: int

    @property
    def correct_label(self) -> str:
        """``3``, or ``2.5`` with a code-entry question's partial credit."""
        return (
            f"{self.correct:g}" if self.correct == round(self.correct, 2) else f"{self.correct:.2f}"
        )

    @property
    def score(self) -> float:
        """Percent correct in this area."""
        return round(100 * self.correct / self.total, 2) if self.total else 0.0


def scores_by_area(results: Sequence[tuple[str, float]]) -> list[AreaScore]:
    """(area, credit) per question in (a bool for right or wrong, or the partial credit of a
    code-entry question), one score per area out, weakest area first."""
    tally: dict[str, list[float]] = {}
    for area, correct in results:
        counts = tally.setdefault(area or "General", [0, 0])
        counts[0] += float(correct)
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
