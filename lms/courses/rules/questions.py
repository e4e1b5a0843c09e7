"""Authoring a question: every reason a draft cannot be stored, on the form field it names."""

from __future__ import annotations

from dataclasses import dataclass

from lms.errors import Problem


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
YEAR_PROBLEM = "The code-set year is a year such as 2026."


def question_problems(draft: DraftQuestion) -> list[Problem]:
    """Every reason a question cannot be stored, each on the question form's field it belongs
    to (an empty list when it can)."""
    problems = []
    if not draft.stem.strip():
        problems.append(Problem("The question has no text.", "stem"))
    problems += [Problem(message, "choices") for message in _choice_problems(draft)]
    if draft.kind not in ("true_false", "single", "multiple"):
        problems.append(Problem(f"Unknown question type {draft.kind!r}.", "kind"))
    if draft.difficulty not in DIFFICULTIES:
        problems.append(Problem("The difficulty is easy, medium or hard.", "difficulty"))
    if draft.code_set_year is not None and not 1990 <= draft.code_set_year <= 2100:
        problems.append(Problem(YEAR_PROBLEM, "code_set_year"))
    return problems


def _choice_problems(draft: DraftQuestion) -> list[str]:
    problems = []
    texts = [text.strip() for text, _ in draft.choices]
    correct = sum(1 for _, ok in draft.choices if ok)
    if any(not text for text in texts):
        problems.append("A choice is empty.")
    if len(set(texts)) != len(texts):
        problems.append("Two choices have the same text.")
    if draft.kind == "true_false":
        if sorted(t.lower() for t in texts) != ["false", "true"] or correct != 1:
            problems.append("A true/false question has the choices True and False, one correct.")
        return problems
    if draft.kind in ("single", "multiple") and len(texts) < 2:
        problems.append("A question needs at least two choices.")
    if draft.kind == "single" and correct != 1:
        problems.append(
            f"A single-answer question needs exactly one correct choice ({correct} given)."
        )
    if draft.kind == "multiple" and correct < 1:
        problems.append("A multiple-answer question needs at least one correct choice.")
    return problems


def choices_from_text(text: str) -> tuple[tuple[str, bool], ...]:
    """The choices of the question form: one per line, a correct one starts with ``*``."""
    choices = []
    for line in text.splitlines():
        if line.strip():
            correct = line.lstrip().startswith("*")
            choices.append((line.strip().lstrip("*").strip(), correct))
    return tuple(choices)


def choices_text(choices: tuple[tuple[str, bool], ...]) -> str:
    """The choices as the question form shows them (the reverse of ``choices_from_text``)."""
    return "\n".join(("* " if correct else "") + text for text, correct in choices)
