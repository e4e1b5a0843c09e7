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
    # The exam's content-area weights: (blueprint tag, questions), summing to ``questions``,
    # with where they come from and when that was checked.
    weights: tuple[tuple[str, int], ...] = ()
    weights_source: str = ""


# AAPC's "CPC exam FAQs": 6 questions for each surgery series 10000-60000, E/M 6, anesthesia
# 4, radiology 6, pathology and laboratory 6, medicine 6, terminology 4, anatomy 4; the last
# 28 (ICD-10-CM, HCPCS Level II, guidelines, compliance) are split by the school: AAPC gives
# no split (docs/content-sources.md).
_CPC_WEIGHTS = (
    ("CPC: Integumentary (10000)", 6),
    ("CPC: Musculoskeletal (20000)", 6),
    ("CPC: Respiratory, cardiovascular, hemic and lymphatic (30000)", 6),
    ("CPC: Digestive (40000)", 6),
    ("CPC: Urinary, genital, maternity, endocrine (50000)", 6),
    ("CPC: Nervous, eye, ear (60000)", 6),
    ("CPC: E/M", 6),
    ("CPC: Anesthesia", 4),
    ("CPC: Radiology", 6),
    ("CPC: Pathology and laboratory", 6),
    ("CPC: Medicine", 6),
    ("CPC: Medical terminology", 4),
    ("CPC: Anatomy", 4),
    ("CPC: ICD-10-CM", 10),
    ("CPC: HCPCS Level II", 6),
    ("CPC: Coding guidelines", 6),
    ("CPC: Compliance and regulatory", 6),
)
# AAPC's "Taking the CPB exam" lists the subjects without counts: the split is the school's.
_CPB_WEIGHTS = (
    ("CPB: Insurance and payers", 20),
    ("CPB: Claims and the revenue cycle", 25),
    ("CPB: Payment and reimbursement", 20),
    ("CPB: Denials, appeals and A/R", 20),
    ("CPB: Patient collections", 10),
    ("CPB: Compliance and regulations", 20),
    ("CPB: Coding for billers", 20),
)
# AHIMA's six CCA domains; third-party ranges 30-34, 15-19, 16-20, 10-14, 5-9, 5-9 %, their
# mid-points scaled to 105 questions (AHIMA's own outline was not reached).
_CCA_WEIGHTS = (
    ("CCA: Clinical classification systems", 36),
    ("CCA: Reimbursement methodologies", 19),
    ("CCA: Health records and data content", 20),
    ("CCA: Compliance", 14),
    ("CCA: Information technologies", 8),
    ("CCA: Confidentiality and privacy", 8),
)


PRESETS: dict[str, ExamPreset] = {
    preset.code: preset
    for preset in (
        ExamPreset(
            "CPC",
            "AAPC CPC",
            100,
            240,
            70,
            "100 multiple-choice questions in 4 hours, 70% (AAPC).",
            _CPC_WEIGHTS,
            "AAPC, CPC exam FAQs (the surgery, E/M, anesthesia, radiology, pathology, medicine, "
            "terminology and anatomy counts); the last 28 split by the school. Checked "
            "2026-12-05.",
        ),
        ExamPreset(
            "CPB",
            "AAPC CPB",
            135,
            240,
            70,
            "Sources conflict: AAPC's page says 135 questions in 4 hours; a third-party guide "
            "says 100. We follow AAPC's page; 70% to pass.",
            _CPB_WEIGHTS,
            "AAPC, Taking the CPB exam (the subjects); the counts are the school's, AAPC gives "
            "none. Checked 2026-12-05.",
        ),
        ExamPreset(
            "CCA",
            "AHIMA CCA",
            105,
            120,
            70,
            "105 questions (90 scored) in 2 hours (AHIMA). AHIMA scores 100-400 with 300 to pass; "
            "a scaled score has no fixed percent, so 70% is our practice target.",
            _CCA_WEIGHTS,
            "AHIMA's six CCA domains; weights from third-party guides (open-exam-prep.com, "
            "testprepreview.com), mid-points scaled to 105. Checked 2026-12-05.",
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


def blueprint_departures(preset: ExamPreset, rows: Sequence[BlueprintRow]) -> list[str]:
    """How a blueprint departs from its preset's content-area weights, one sentence per area
    that differs (a warning: a school may weigh its practice differently, on purpose)."""
    drawn: dict[str, int] = {}
    for row in rows:
        drawn[row.tag] = drawn.get(row.tag, 0) + row.count
    departures = []
    for tag, count in preset.weights:
        got = drawn.pop(tag, 0)
        if got != count:
            departures.append(
                f"{tag}: the {preset.name} exam has {count}, the blueprint draws {got} "
                f"({got - count:+d})."
            )
    departures += [
        f"{tag}: not an area of the {preset.name} exam; the blueprint draws {got}."
        for tag, got in drawn.items()
    ]
    return departures


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
