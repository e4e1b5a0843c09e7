"""Rules for quizzes: grading, drawing, timing, pacing, item statistics. Pure functions over
plain data (no Flask, no database, no clock: ``now`` and the random source are passed in)."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


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
    """Answers that do not belong to the quiz; ``problems`` lists every one."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


def check_answers(keys: Sequence[QuestionKey], answers: Mapping[int, frozenset[int]]) -> None:
    """Raise ``AnswerError`` for questions not in the quiz or choices not in their question."""
    by_id = {key.question_id: key for key in keys}
    problems = []
    for question_id, chosen in answers.items():
        key = by_id.get(question_id)
        if key is None:
            problems.append(f"question {question_id} is not part of this quiz")
        elif not chosen <= key.choice_ids:
            unknown = ", ".join(str(c) for c in sorted(chosen - key.choice_ids))
            problems.append(f"choice {unknown} does not belong to question {question_id}")
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


# --- drawing questions and shuffling choices -------------------------------------------


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


class DrawError(ValueError):
    """The bank cannot satisfy the blueprint; ``problems`` lists every short row."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


def draw_questions(
    blueprint: Sequence[BlueprintRow], pool: Sequence[PoolQuestion], rng: random.Random
) -> list[int]:
    """Draw ``count`` distinct questions per row, never the same question twice, in random
    order; raise ``DrawError`` naming every row the pool cannot fill."""
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
                f"the bank has {len(candidates)}"
            )
            continue
        picked = rng.sample(candidates, row.count)
        taken.update(picked)
        drawn.extend(picked)
    if problems:
        raise DrawError(problems)
    rng.shuffle(drawn)
    return drawn


def shuffle_choices(choice_ids: Sequence[int], rng: random.Random, keep_order: bool) -> list[int]:
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
            problems.append(f"row {index}: a tag is needed")
        elif isinstance(count, bool) or not isinstance(count, int) or count < 1:
            problems.append(f"row {index}: the count must be a whole number of at least 1")
        else:
            parsed.append(BlueprintRow(tag, count))
    if problems:
        raise DrawError(problems)
    return parsed


# --- timing ------------------------------------------------------------------------------


def deadline_for(started_at: datetime, time_limit_minutes: int | None) -> datetime | None:
    """When a timed attempt closes; ``None`` for an untimed quiz."""
    if not time_limit_minutes:
        return None
    return started_at + timedelta(minutes=time_limit_minutes)


def seconds_left(deadline: datetime | None, now: datetime) -> int | None:
    """Whole seconds until the deadline (0 once passed); ``None`` when untimed."""
    if deadline is None:
        return None
    return max(0, int((deadline - now).total_seconds()))


def is_overdue(deadline: datetime | None, now: datetime) -> bool:
    """Whether a timed attempt's deadline has passed."""
    return deadline is not None and now >= deadline


@dataclass(frozen=True)
class Pacing:
    """Time used against the budget per question of a timed exam."""

    seconds_used: int
    seconds_allowed: int | None
    questions: int
    seconds_per_question: float
    budget_per_question: float | None
    on_pace: bool | None  # None when untimed


def pacing(
    started_at: datetime, finished_at: datetime, time_limit_minutes: int | None, questions: int
) -> Pacing:
    """How fast the student went: seconds per question against the exam's budget."""
    used = max(0, int((finished_at - started_at).total_seconds()))
    allowed = time_limit_minutes * 60 if time_limit_minutes else None
    per_question = used / questions if questions else 0.0
    budget = allowed / questions if allowed and questions else None
    on_pace = None if budget is None else per_question <= budget
    return Pacing(used, allowed, questions, round(per_question, 1), budget, on_pace)


# --- results by content area -------------------------------------------------------------


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


# --- exam presets ------------------------------------------------------------------------


@dataclass(frozen=True)
class ExamPreset:
    """A practice-exam shape mirroring a real certification exam."""

    code: str
    name: str
    questions: int
    minutes: int
    passing_score: int
    note: str


PRESETS: dict[str, ExamPreset] = {
    preset.code: preset
    for preset in (
        ExamPreset(
            "CPC", "AAPC CPC", 100, 240, 70, "100 multiple-choice questions in 4 hours, 70% (AAPC)."
        ),
        ExamPreset(
            "CPB",
            "AAPC CPB",
            135,
            240,
            70,
            "Sources conflict: AAPC's page says 135 questions in 4 hours; a third-party guide "
            "says 100. We follow AAPC's page; 70% to pass.",
        ),
        ExamPreset(
            "CCA",
            "AHIMA CCA",
            105,
            120,
            70,
            "105 questions (90 scored) in 2 hours (AHIMA). AHIMA scores 100-400 with 300 to pass; "
            "a scaled score has no fixed percent, so 70% is our practice target.",
        ),
    )
}


# --- time on task (contact hours) --------------------------------------------------------

#: Most seconds one heartbeat can add: the browser beats every minute while the page is used.
HEARTBEAT_CAP_SECONDS = 90


def heartbeat_credit(last_beat_at: datetime | None, now: datetime) -> int:
    """Seconds to credit for a heartbeat: the time since the last one, at most the cap.

    The first beat of a visit credits nothing (it starts the clock); a gap longer than the
    cap (the page was idle or closed, so the browser stopped beating) counts only the cap."""
    if last_beat_at is None:
        return 0
    gap = int((now - last_beat_at).total_seconds())
    if gap <= 0:
        return 0
    return min(gap, HEARTBEAT_CAP_SECONDS)


# --- item analysis -----------------------------------------------------------------------


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


# --- authoring questions -----------------------------------------------------------------


@dataclass(frozen=True)
class DraftQuestion:
    """A question as an author (or an import file) gives it, before it is stored."""

    stem: str
    kind: str  # "single" / "multiple" / "true_false"
    choices: tuple[tuple[str, bool], ...]  # (text, is correct), in order
    rationale: str = ""
    content_area: str = ""
    difficulty: str = ""
    code_set_year: int | None = None
    tags: tuple[str, ...] = ()


DIFFICULTIES = ("", "easy", "medium", "hard")


def question_problems(draft: DraftQuestion) -> list[str]:
    """Every reason a question cannot be stored (an empty list when it can)."""
    problems = []
    if not draft.stem.strip():
        problems.append("the question has no text")
    texts = [text.strip() for text, _ in draft.choices]
    correct = sum(1 for _, ok in draft.choices if ok)
    if any(not text for text in texts):
        problems.append("a choice is empty")
    if len(set(texts)) != len(texts):
        problems.append("two choices have the same text")
    if draft.kind == "true_false":
        if sorted(t.lower() for t in texts) != ["false", "true"] or correct != 1:
            problems.append("a true/false question has the choices True and False, one correct")
    elif draft.kind == "single":
        if len(texts) < 2:
            problems.append("a question needs at least two choices")
        if correct != 1:
            problems.append(
                f"a single-answer question needs exactly one correct choice ({correct} given)"
            )
    elif draft.kind == "multiple":
        if len(texts) < 2:
            problems.append("a question needs at least two choices")
        if correct < 1:
            problems.append("a multiple-answer question needs at least one correct choice")
    else:
        problems.append(f"unknown question type {draft.kind!r}")
    if draft.difficulty not in DIFFICULTIES:
        problems.append("the difficulty is easy, medium or hard")
    if draft.code_set_year is not None and not 1990 <= draft.code_set_year <= 2100:
        problems.append("the code-set year is a year such as 2026")
    return problems
