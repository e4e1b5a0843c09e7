"""A quiz's settings (exam presets, blueprint, bank) and a new practice-exam module: what
they resolve to, or every problem on the form field it belongs to."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lms.courses.rules.drawing import BlueprintRow, PoolQuestion, parse_blueprint_text, shortfalls
from lms.errors import Problem


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


@dataclass(frozen=True)
class QuizSettings:
    """What an instructor sets on a quiz, as the settings form gives it."""

    passing_score: int
    time_limit_minutes: int | None
    max_attempts: int | None
    review_policy: str
    preset: str | None
    bank_id: int | None
    blueprint: str  # "tag: count" per line; empty: the quiz's fixed list
    open_book: bool = False  # the player offers the code look-up


@dataclass(frozen=True)
class SettledQuiz:
    """The settings a quiz takes (a preset fixes the time and the passing score), or every
    problem that refuses them."""

    time_limit_minutes: int | None
    passing_score: int
    blueprint: tuple[BlueprintRow, ...]
    problems: tuple[Problem, ...]


def settle_quiz(settings: QuizSettings, pool: Sequence[PoolQuestion] | None) -> SettledQuiz:
    """Check a quiz's settings against the chosen bank's live questions (``pool``; ``None``
    when no bank is chosen): a preset's blueprint must draw its number of questions, and the
    bank must be able to fill every row now."""
    rows, problems = parse_blueprint_text(settings.blueprint)
    time_limit, passing = settings.time_limit_minutes, settings.passing_score
    if settings.preset:
        preset = PRESETS.get(settings.preset)
        if preset is None:
            problems.append(Problem("There is no such exam preset.", "preset"))
        else:
            time_limit, passing = preset.minutes, preset.passing_score
            total = sum(row.count for row in rows)
            if total != preset.questions:
                problems.append(
                    Problem(
                        f"The {preset.name} preset has {preset.questions} questions; the "
                        f"blueprint draws {total}.",
                        "blueprint",
                    )
                )
    if rows and pool is None:
        problems.append(Problem("Choose the bank the blueprint draws from.", "bank_id"))
    elif rows and pool is not None:
        problems += [Problem(short, "blueprint") for short in shortfalls(rows, pool)]
    return SettledQuiz(time_limit, passing, tuple(rows), tuple(problems))


MODULE_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,29}")


def exam_module_problems(code: str, title: str, code_taken: bool) -> list[Problem]:
    """Every reason a practice-exam module cannot be added with this (normalised) code and
    title, each on the exam form's field."""
    problems = []
    if not MODULE_CODE.fullmatch(code):
        problems.append(
            Problem("The code is 2 to 30 letters, digits or dashes, e.g. CPC-PRACTICE-2.", "code")
        )
    elif code_taken:
        problems.append(Problem(f"The code {code} is already used by another module.", "code"))
    if not title:
        problems.append(Problem("Give the exam a title.", "title"))
    return problems
