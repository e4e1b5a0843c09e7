"""Moodle's answer grades, and how a question's grades map onto ours (and back).

Moodle takes only a fixed list of grades for an answer: ``question_bank::
fraction_options_full()`` in Moodle's ``question/engine/bank.php`` (the fractions 1, 0.9,
0.8333333, 0.8, 0.75, 0.7, 0.6666667, 0.6, 0.5, 0.4, 0.3333333, 0.3, 0.25, 0.2, 0.1666667,
0.1428571, 0.125, 0.1111111, 0.1, 0.05, 0 and the same negative). Its importers check every
answer against it with ``match_grade_options()`` (``lib/questionlib.php``), which allows a
difference of 0.00001 in the fraction, and refuse the question otherwise; a multiple-answer
question's positive grades must also add up to 100% (rounded to two places,
``qtype_multichoice::save_question_options``). Pure: no Flask, no database."""

from __future__ import annotations

import math
from dataclasses import dataclass

from lms.courses.rules.questions import DraftQuestion

POSITIVE = (
    "100",
    "90",
    "83.33333",
    "80",
    "75",
    "70",
    "66.66667",
    "60",
    "50",
    "40",
    "33.33333",
    "30",
    "25",
    "20",
    "16.66667",
    "14.28571",
    "12.5",
    "11.11111",
    "10",
    "5",
)
GRADES = (*POSITIVE, "0", *(f"-{grade}" for grade in reversed(POSITIVE)))
TOLERANCE = 0.001  # in percent: match_grade_options' 0.00001 on the fraction
TOO_MANY_RIGHT = (
    "more than 20 right choices: Moodle's grades (5% at the least) cannot add up to 100%"
)
ACCEPTED = "100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, 40, 33.33333, 30, 25, 20, "
ACCEPTED += "16.66667, 14.28571, 12.5, 11.11111, 10, 5, 0 and the same negative"


def moodle_grade(percent: float) -> str | None:
    """The grade of Moodle's list that ``percent`` is (within its tolerance), or None."""
    if not math.isfinite(percent):
        return None
    return next((g for g in GRADES if abs(float(g) - percent) < TOLERANCE), None)


def export_grades(draft: DraftQuestion) -> tuple[str, ...] | None:
    """The grade of each choice, from Moodle's list, or None when the question cannot be put
    in it. Single answer and true/false: 100 for the right choice, 0 for the others. Several
    answers (graded here all or nothing): the right choices share 100% (equally for up to 10,
    as tens and fives for 11 to 20: 5% is the smallest grade) and each wrong choice takes
    100% away, so a wrong pick scores 0 in Moodle as here; more than 20 right choices cannot
    add up to 100% from the list."""
    if draft.kind != "multiple":
        return tuple("100" if correct else "0" for _, correct in draft.choices)
    right = sum(1 for _, correct in draft.choices if correct)
    if right <= 10:
        shares = [moodle_grade(100 / right)] * right
    elif right <= 20:
        shares = ["10"] * (20 - right) + ["5"] * (2 * right - 20)
    else:
        return None
    given = iter(shares)
    return tuple(next(given) if correct else "-100" for _, correct in draft.choices)


@dataclass(frozen=True)
class Graded:
    """Choices read with their grades: which are right, or why the question is refused."""

    correct: tuple[bool, ...] = ()
    problem: str = ""


def read_grades(kind: str, grades: list[str]) -> Graded:
    """Which choices are right, from the grades (percent, as the file writes them) of a
    ``kind`` question ("single", "multiple" or "true_false"); refuses a grade Moodle itself
    refuses and grading our kinds cannot carry: partial credit or a penalty on a single
    answer, right choices of a multiple answer that do not add up to 100%."""
    values = []
    for place, raw in enumerate(grades, start=1):
        try:
            value = float(raw)
        except ValueError:
            return Graded(problem=f"choice {place}'s grade {raw[:20]!r} is not a number")
        if moodle_grade(value) is None:
            return Graded(
                problem=f"choice {place}'s grade {raw[:20]}% is not one Moodle accepts ({ACCEPTED})"
            )
        values.append(value)
    if kind == "multiple":
        total = round(sum(v for v in values if v > 0), 2)
        if values and abs(total - 100) >= 0.01:
            return Graded(
                problem=f"the right choices' grades add up to {total:g}%, not 100% "
                "(here every right choice must be picked for the mark)"
            )
        return Graded(correct=tuple(v > 0 for v in values))
    for place, value in enumerate(values, start=1):
        if 0 < value < 100 - TOLERANCE:
            return Graded(
                problem=f"choice {place} gives partial credit ({value:g}%), which a "
                f"{'true/false' if kind == 'true_false' else 'single-answer'} question here "
                "does not: one right choice scores 100%, any other 0"
            )
        if value < 0:
            return Graded(
                problem=f"choice {place} takes marks away ({value:g}%); a wrong answer "
                "here scores 0"
            )
    return Graded(correct=tuple(v >= 100 - TOLERANCE for v in values))
