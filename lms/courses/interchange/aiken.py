"""Aiken format: a question line, lettered choices, then ``ANSWER: X``. Single answer only."""

from __future__ import annotations

import re

from lms.courses.interchange import Limits, ParseResult, Problem
from lms.courses.rules.questions import DraftQuestion

CHOICE = re.compile(r"^([A-Za-z])[.)]\s+(.*)$")
ANSWER = re.compile(r"^ANSWER:\s*(.*)$")


def parse(text: str, max_questions: int = Limits.max_questions) -> ParseResult:
    """Read Aiken questions; report each block that is not a complete question."""
    result = ParseResult(max_questions=max_questions)
    block: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line:
            block.append((number, line))
            if ANSWER.match(line):
                if not result.count(f"line {block[0][0]}"):
                    return result
                _take(block, result)
                block = []
    if block:
        result.problems.append(
            Problem(
                f"line {block[0][0]}", "the question has no ANSWER line (is the file truncated?)"
            )
        )
    return result


def _take(block: list[tuple[int, str]], result: ParseResult) -> None:
    start = block[0][0]
    where = f"line {start}"
    answer = ANSWER.match(block[-1][1])
    if answer is None:
        result.problems.append(Problem(where, "the question has no ANSWER line"))
        return
    stem_lines, choices = [], []
    for _, line in block[:-1]:
        match = CHOICE.match(line)
        if match and (choices or stem_lines):
            choices.append((match.group(1).upper(), match.group(2).strip()))
        elif choices:
            result.problems.append(Problem(where, f"unexpected line after the choices: {line!r}"))
            return
        else:
            stem_lines.append(line)
    letter = answer.group(1).strip().upper()
    letters = [c[0] for c in choices]
    if len(letter) != 1 or letter not in letters:
        result.problems.append(
            Problem(
                where,
                f"ANSWER {letter or '(empty)'} is not one of the choices "
                f"{', '.join(letters) or '(none)'}",
            )
        )
        return
    result.take(
        where,
        DraftQuestion(
            stem=" ".join(stem_lines),
            kind="single",
            choices=tuple((text, key == letter) for key, text in choices),
        ),
    )


def export(drafts: list[DraftQuestion]) -> tuple[str, list[str]]:
    """Aiken text for single-answer questions; the others are listed as skipped."""
    out, skipped = [], []
    for index, draft in enumerate(drafts, start=1):
        if draft.kind != "single" or len(draft.choices) > 26:
            skipped.append(f"question {index}: Aiken holds single-answer questions only")
            continue
        out.append(draft.stem.replace("\n", " "))
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        for letter, (text, _) in zip(letters, draft.choices, strict=False):
            out.append(f"{letter}. {text}")
        answer = next(letters[i] for i, (_, ok) in enumerate(draft.choices) if ok)
        out.append(f"ANSWER: {answer}")
        out.append("")
    return "\n".join(out), skipped
