"""GIFT (Moodle's text format) for multiple choice, multiple answer and true/false.

A question is ``::title:: text { =right ~wrong #feedback ####general feedback }``; questions
are separated by blank lines; ``//`` starts a comment; ``\\`` escapes ``~ = # { } :``. The
general feedback becomes the rationale. Our metadata travels in a ``// lms-meta:`` comment
line, which other tools ignore."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from lms.courses.interchange import (
    Limits,
    ParseResult,
    Problem,
    category_area,
    grades,
    markup,
    meta_tags,
    split_tags,
)
from lms.courses.rules.questions import DraftQuestion

SPECIALS = "~=#{}:"
PLACEHOLDER = {c: f"\x01{i}\x02" for i, c in enumerate(SPECIALS)}
BACKSLASH = "\x01b\x02"
META = "// lms-meta:"
FORMATS = {"html": "html", "moodle": "moodle", "plain": "plain_text", "markdown": "markdown"}


def _protect(text: str) -> str:
    """Escaped characters out of the way of the parsing, as Moodle does: ``\\`` first."""
    text = text.replace("\\\\", BACKSLASH)
    for char, token in PLACEHOLDER.items():
        text = text.replace("\\" + char, token)
    return text.replace("\\n", "\n")


def _restore(text: str) -> str:
    for char, token in PLACEHOLDER.items():
        text = text.replace(token, char)
    return text.replace(BACKSLASH, "\\").strip()


def escape(text: str) -> str:
    """Escape GIFT's special characters (the backslash first) and line breaks."""
    text = text.replace("\\", "\\\\").replace("\r", "")
    for char in SPECIALS:
        text = text.replace(char, "\\" + char)
    return text.replace("\n", "\\n")


def _blocks(text: str) -> Iterator[tuple[int, list[str], dict]]:
    lines: list[str] = []
    start = 0
    meta: dict = {}
    category = ""
    depth = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith(META):
            meta = _meta(stripped[len(META) :])
            continue
        if stripped.startswith("//") and depth == 0:
            continue
        if stripped.startswith("$CATEGORY") and depth == 0:
            category = category_area(stripped.split(":", 1)[1] if ":" in stripped else "")
            continue
        if not stripped and depth == 0:
            if lines:
                yield start, lines, {"category": category, **meta}
                lines, meta = [], {}
            continue
        if not lines:
            start = number
        lines.append(raw)
        protected = _protect(raw)
        depth += protected.count("{") - protected.count("}")
    if lines:
        yield start, lines, {"category": category, **meta}


def _meta(raw: str) -> dict:
    """Our ``// lms-meta:`` line: a JSON object whose ``tags`` are text. Anything else (``[1]``,
    ``"x"``, broken JSON) is kept as ``{"error": ...}`` and refuses the question after it."""
    try:
        meta = json.loads(raw)
    except (ValueError, RecursionError):  # broken, a number past int(), nested too deep
        meta = None
    tags = meta.get("tags", []) if isinstance(meta, dict) else None
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        return {"error": META_PROBLEM}
    return {"tags": tags}


META_PROBLEM = (
    'the "// lms-meta:" line above the question is not a JSON object such as '
    '{"tags": ["area:CPT"]}; correct the line or remove it'
)


def parse(text: str, max_questions: int = Limits.max_questions) -> ParseResult:
    """Read GIFT questions; report each one that is not of a type we take."""
    result = ParseResult(max_questions=max_questions)
    for start, lines, meta in _blocks(text):
        if not result.count(f"line {start}"):
            break
        _take(start, _protect("\n".join(lines)), meta, result)
    return result


WEIGHT = re.compile(r"^%(-*\d{1,2}\.?\d*)%")  # Moodle's: ~%50%, ~%-33.33333%, ~%100%


def _formatted(text: str, default: str) -> tuple[str, str]:
    """A text's format (a leading ``[html]``, ``[moodle]``, ``[plain]``, ``[markdown]``, else
    ``default``) and the text without it."""
    match = re.match(r"\s*\[(html|moodle|plain|markdown)\]", text)
    return (FORMATS[match.group(1)], text[match.end() :]) if match else (default, text)


def _take(start: int, body: str, meta: dict, result: ParseResult) -> None:
    where = f"line {start}"
    title = re.match(r"\s*::(.*?)::", body, re.S)
    if title:
        body = body[title.end() :]
        name = _restore(title.group(1))
        where += f" ({name[:60]})" if name else ""
    if "error" in meta:
        result.problems.append(Problem(where, meta["error"]))
        return
    open_at, close_at = body.find("{"), body.rfind("}")
    if open_at == -1:
        result.problems.append(
            Problem(where, "no answer block { } (a description, not a question)")
        )
        return
    if close_at < open_at:
        result.problems.append(
            Problem(where, "the answer block has no closing } (is the file truncated?)")
        )
        return
    if body.count("{") != 1 or body.count("}") != 1:
        result.problems.append(
            Problem(where, "more than one answer block; not a question we can take")
        )
        return
    before, inside, after = body[:open_at], body[open_at + 1 : close_at], body[close_at + 1 :]
    fmt, stem = _formatted(before.strip(), "moodle")  # GIFT's default: Moodle auto-format
    if after.strip():
        stem = f"{stem} _____ {after.strip()}"  # missing-word form
    general = ""
    if "####" in inside:
        inside, general = inside.rsplit("####", 1)  # the last one, as Moodle reads it
    inside = inside.strip()
    kind, answers = _answers(inside)
    if kind not in ("single", "multiple", "true_false"):
        result.problems.append(Problem(where, kind))
        return
    texts = [_restore(stem), _restore(general)] + [
        _restore(part) for _, text, feedback in answers for part in (text, feedback)
    ]
    if markup.has_media(*texts):
        result.problems.append(Problem(where, markup.MEDIA_REASON))
        return
    graded = grades.read_grades(kind, [grade for grade, _, _ in answers])
    if graded.problem:
        result.problems.append(Problem(where, graded.problem))
        return
    choices = [_read(text, fmt) for _, text, _ in answers]
    feedback = [
        (choice, _read(text, fmt)) for choice, (_, _, text) in zip(choices, answers, strict=True)
    ]
    fields = split_tags(meta.get("tags", []))
    result.take(
        where,
        DraftQuestion(
            stem=_read(stem, fmt),
            kind=kind,
            choices=tuple(zip(choices, graded.correct, strict=True)),
            rationale=markup.rationale_with_feedback(_read(general, fmt), feedback),
            content_area=fields.get("content_area", meta.get("category", "")),
            difficulty=fields.get("difficulty", ""),
            code_set_year=fields.get("code_set_year"),
            tags=fields["tags"],
        ),
    )


def _read(text: str, default: str) -> str:
    """Our plain text for a GIFT text in the question's format (or its own ``[format]``)."""
    fmt, text = _formatted(text, default)
    return markup.to_text(_restore(text), fmt)


def _answers(inside: str) -> tuple[str, list[tuple[str, str, str]]]:
    """The kind of question the answer block makes and its answers (grade in percent, text,
    feedback), told apart in Moodle's order; for a kind we do not take, the reason."""
    head = inside.split("#", 1)[0].strip()
    if not inside:
        return "unsupported question type: essay", []
    if inside.startswith("#"):
        return "unsupported question type: numerical", []
    if "~" in inside:  # only multiple choice has a ~; a = makes it single-answer
        kind = "single" if "=" in inside else "multiple"
        answers = []
        for answer in inside.replace("=", "~=").split("~"):
            answer = answer.strip()
            if not answer:
                continue
            weight = WEIGHT.match(answer)
            if answer.startswith("="):
                grade, answer = "100", answer[1:]
            elif weight:
                grade, answer = weight.group(1), answer[weight.end() :]
            else:
                grade = "0"
            text, _, feedback = answer.partition("#")
            answers.append((grade, text, feedback))
        if not inside.lstrip().startswith(("~", "=")):
            return "the answers do not start with = or ~", []
        return kind, answers
    if "=" in inside and "->" in inside:
        return "unsupported question type: matching", []
    if head.upper() in ("T", "TRUE", "F", "FALSE"):
        truth = head.upper().startswith("T")
        _, wrong, right = (inside.split("#", 2) + ["", ""])[:3]  # {TRUE#wrong#right}
        return "true_false", [
            ("100" if truth else "0", "True", right if truth else wrong),
            ("0" if truth else "100", "False", wrong if truth else right),
        ]
    return "unsupported question type: short answer", []


def export(drafts: list[DraftQuestion]) -> tuple[str, list[str]]:
    """GIFT text for the questions, with a ``// lms-meta:`` line keeping our metadata and
    grades from Moodle's list only; the questions it cannot grade are left out and listed.
    Texts are marked ``[plain]``: ours are plain text, which Moodle would read as HTML."""
    out, skipped = ["// Exported question bank (GIFT)", ""], []
    for index, draft in enumerate(drafts, start=1):
        answer_grades = grades.export_grades(draft)
        if answer_grades is None:
            skipped.append(f"question {index}: {grades.TOO_MANY_RIGHT}")
            continue
        out.append(META + " " + json.dumps({"tags": meta_tags(draft)}))
        stem = "[plain]" + escape(draft.stem)
        general = f"####{escape(draft.rationale)}" if draft.rationale else ""
        if draft.kind == "true_false":
            truth = next(text for text, ok in draft.choices if ok).lower() == "true"
            out.append(f"{stem} {{{'TRUE' if truth else 'FALSE'}{general}}}")
        else:
            lines = [
                "\t"
                + (("=" if ok else "~") if draft.kind == "single" else f"~%{grade}%")
                + escape(text)
                for (text, ok), grade in zip(draft.choices, answer_grades, strict=True)
            ]
            if general:  # no line at all without one: a blank line splits the question
                lines.append(f"\t{general}")
            out.append(f"{stem} {{\n" + "\n".join(lines) + "\n}")
        out.append("")
    if skipped:
        out[1:1] = [f"// Left out (Moodle could not grade it): {line}" for line in skipped]
    return "\n".join(out), skipped
