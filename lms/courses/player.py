"""What the quiz player and the result page show, computed from a loaded attempt.

The player's view of a question carries no correctness at all, so the answers cannot reach
the browser before submission; the review is built only when the review policy allows it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from lms.courses.attempts.grading import (
    AttemptResult,
    answers_credit,
    answers_right,
    chosen_of,
    grade_of,
    result_of,
)
from lms.courses.models import Attempt, AttemptQuestion, Question, QuestionKind
from lms.courses.rules import code_entry, grading, timing


@dataclass(frozen=True)
class ShownChoice:
    """A choice as the player shows it."""

    id: int
    text: str
    picked: bool
    is_correct: bool | None = None  # only filled in a review


@dataclass(frozen=True)
class ShownBox:
    """A code-entry answer box: its label and code set, what the student typed, and in a
    review the key and the feedback line of each code."""

    index: int
    label: str
    code_set: str
    order: str
    typed: str
    key: str | None = None
    lines: tuple[code_entry.CodeResult, ...] = ()

    @property
    def code_set_name(self) -> str:
        return code_entry.CODE_SET_NAMES[self.code_set]

    @property
    def order_words(self) -> str:
        return {
            "any": "in any order",
            "first": "the first-listed (principal) code first",
            "exact": "in order",
        }[self.order]


@dataclass(frozen=True)
class ShownQuestion:
    """A question as the player shows it, choices in the attempt's order."""

    id: int
    number: int
    stem: str
    multiple: bool
    choices: tuple[ShownChoice, ...]
    answered: bool
    is_correct: bool | None = None
    rationale: str | None = None
    content_area: str = ""
    flagged: bool = False  # flagged for review by the student (the player only)
    case: str = ""  # a code-entry question's case (plain text)
    boxes: tuple[ShownBox, ...] = ()  # a code-entry question's answer boxes
    credit: float | None = None  # in a review, the credit earned (partial for code entry)


def _boxes(item: AttemptQuestion, typed, review: bool) -> tuple[ShownBox, ...]:
    """The answer boxes of a code-entry question with the text typed in each, and in a
    review the key and per-code feedback."""
    if item.question.kind is not QuestionKind.CODE_ENTRY:
        return ()
    boxes = code_entry.boxes_of(item.question.code_boxes)
    texts = list(typed) if isinstance(typed, tuple) else []
    texts += [""] * (len(boxes) - len(texts))
    shown = []
    for index, (box, text) in enumerate(zip(boxes, texts, strict=False)):
        if review:
            result = code_entry.score_box(box, text)
            key = ", ".join(" or ".join(str(c) for c in entry) for entry in box.key)
            shown.append(
                ShownBox(index, box.label, box.code_set, box.order, text, key, result.lines)
            )
        else:
            shown.append(ShownBox(index, box.label, box.code_set, box.order, text))
    return tuple(shown)


def player_questions(attempt: Attempt) -> list[ShownQuestion]:
    """The attempt's questions with the student's saved picks, and nothing about the key."""
    picked = chosen_of(attempt)
    shown = []
    for item in attempt.questions:
        texts = {c.id: c.text for c in item.question.choices}
        chosen = picked.get(item.question_id, frozenset())
        shown.append(
            ShownQuestion(
                id=item.question_id,
                number=item.position,
                stem=item.question.stem,
                multiple=item.question.kind is QuestionKind.MULTIPLE,
                choices=tuple(
                    ShownChoice(cid, texts[cid], cid in chosen)
                    for cid in item.choice_order
                    if cid in texts
                ),
                answered=grading.is_answered(chosen),
                flagged=item.flagged,
                case=item.question.case_text or "",
                boxes=_boxes(item, chosen, review=False),
            )
        )
    return shown


def review_questions(
    attempt: Attempt, correct: dict[int, bool], credit: dict[int, float] | None = None
) -> list[ShownQuestion]:
    """The attempt's questions with the key, the student's picks (or typed codes, with the
    feedback on each) and the rationales."""
    picked = chosen_of(attempt)
    credit = credit or {}
    shown = []
    for item in attempt.questions:
        by_id = {c.id: c for c in item.question.choices}
        chosen = picked.get(item.question_id, frozenset())
        shown.append(
            ShownQuestion(
                id=item.question_id,
                number=item.position,
                stem=item.question.stem,
                multiple=item.question.kind is QuestionKind.MULTIPLE,
                choices=tuple(
                    ShownChoice(cid, by_id[cid].text, cid in chosen, by_id[cid].is_correct)
                    for cid in item.choice_order
                    if cid in by_id
                ),
                answered=grading.is_answered(chosen),
                is_correct=correct.get(item.question_id, False),
                rationale=item.question.rationale,
                content_area=item.question.content_area,
                case=item.question.case_text or "",
                boxes=_boxes(item, chosen, review=True),
                credit=credit.get(item.question_id),
            )
        )
    return shown


@dataclass(frozen=True)
class ResultView:
    """Everything the result page shows."""

    outcome: AttemptResult
    areas: list[grading.AreaScore]
    pacing: timing.Pacing
    may_review: bool
    review: list[ShownQuestion]
    correct: int
    total: int


def result_view(attempt: Attempt, outcome: AttemptResult) -> ResultView:
    """Score per content area, pacing, and the review if the quiz's policy allows it: of a
    graded attempt, or of one whose time is up as it will be graded (``outcome``)."""
    correct = answers_right(attempt, outcome)
    credit = answers_credit(attempt, outcome)
    area_results = [
        (item.question.content_area, credit.get(item.question_id, 0.0))
        for item in attempt.questions
    ]
    allowed = grading.may_review(attempt.quiz.review_policy.value, outcome.passed)
    return ResultView(
        outcome=outcome,
        areas=grading.scores_by_area(area_results),
        pacing=timing.pacing(
            attempt.started_at,
            outcome.submitted_at,
            attempt.quiz.time_limit_minutes,
            len(attempt.questions),
            answered=sum(1 for picks in chosen_of(attempt).values() if grading.is_answered(picks)),
            multiplier=attempt.time_multiplier,
        ),
        may_review=allowed,
        review=review_questions(attempt, correct, credit) if allowed else [],
        correct=sum(1 for ok in correct.values() if ok),
        total=len(area_results),
    )


@dataclass(frozen=True)
class StaffReview:
    """An attempt as its student's instructors see it: every question with the key."""

    outcome: AttemptResult | None  # None while the attempt is open
    questions: list[ShownQuestion]
    correct: int
    total: int


def staff_review(attempt: Attempt, now: datetime) -> StaffReview:
    """A loaded attempt question by question, with the student's picks, the key and whether
    each is right, whatever the quiz's review policy (which governs only what the student is
    shown). An attempt still open is judged on the answers saved so far."""
    outcome = result_of(attempt, now)
    if outcome is None:
        results = grade_of(attempt).results
        correct = {result.question_id: result.is_correct for result in results}
        credit = {result.question_id: result.credit for result in results}
    else:
        correct = answers_right(attempt, outcome)
        credit = answers_credit(attempt, outcome)
    questions = review_questions(attempt, correct, credit)
    return StaffReview(
        outcome=outcome,
        questions=questions,
        correct=sum(1 for question in questions if question.is_correct),
        total=len(questions),
    )


def unanswered_numbers(attempt: Attempt, answers: Mapping[int, grading.Answer]) -> list[int]:
    """The numbers (as the player shows them) of the attempt's questions with no answer, saved
    before or sent now in ``answers``."""
    saved = chosen_of(attempt)
    return [
        item.position
        for item in attempt.questions
        if not grading.is_answered(answers.get(item.question_id))
        and not grading.is_answered(saved.get(item.question_id))
    ]


def flagged_numbers(attempt: Attempt, flags: frozenset[int] | None) -> list[int]:
    """The numbers of the attempt's questions flagged for review: as sent now in ``flags``,
    or as saved when the form did not send them (``None``)."""
    return [
        item.position
        for item in attempt.questions
        if (item.question_id in flags if flags is not None else item.flagged)
    ]


@dataclass(frozen=True)
class TimeLimit:
    """An attempt's time limit as the player states it: the quiz's, and the extended one
    when the student had extra time (an accommodation) at the start."""

    minutes: int
    multiplier: float | None

    @property
    def seconds_allowed(self) -> int:
        return timing.seconds_allowed(self.minutes, self.multiplier) or 0

    @property
    def extended(self) -> bool:
        return bool(self.multiplier) and self.multiplier != 1

    @property
    def extended_label(self) -> str:
        """``135 min``, or ``56 min 15 s`` when the extension is not whole minutes."""
        minutes, seconds = divmod(self.seconds_allowed, 60)
        return f"{minutes} min {seconds:02d} s" if seconds else f"{minutes} min"


def time_limit(attempt: Attempt) -> TimeLimit | None:
    """The attempt's time limit, extended or not; None for an untimed quiz."""
    minutes = attempt.quiz.time_limit_minutes
    if not minutes or attempt.deadline_at is None:
        return None
    return TimeLimit(minutes, attempt.time_multiplier)


def seconds_left(attempt: Attempt, now: datetime) -> int | None:
    """Seconds the student has left, computed on the server."""
    return timing.seconds_left(attempt.deadline_at, now)


def format_duration(seconds: float | None) -> str:
    """``1 h 05 min``, ``3 min 20 s`` or ``45 s``."""
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def preview_questions(questions: list[Question]) -> list[ShownQuestion]:
    """Questions as the player would show them to a student, for an author's preview: no
    picks, no key, the choices in their stored order."""
    shown = []
    for number, question in enumerate(questions, start=1):
        boxes = ()
        if question.kind is QuestionKind.CODE_ENTRY:
            boxes = tuple(
                ShownBox(index, box.label, box.code_set, box.order, "")
                for index, box in enumerate(code_entry.boxes_of(question.code_boxes))
            )
        shown.append(
            ShownQuestion(
                id=question.id,
                number=number,
                stem=question.stem,
                multiple=question.kind is QuestionKind.MULTIPLE,
                choices=tuple(ShownChoice(c.id, c.text, False) for c in question.choices),
                answered=False,
                content_area=question.content_area,
                case=question.case_text or "",
                boxes=boxes,
            )
        )
    return shown
