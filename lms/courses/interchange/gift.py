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
    meta_tags,
    split_tags,
)
from lms.courses.rules.questions import DraftQuestion

SPECIALS = "~=#{}:"
PLACEHOLDER = {c: f"\x01{i}\x02" for i, c in enumerate(SPECIALS)}
META = "// lms-meta:"


def _protect(text: str) -> str:
    for char, token in PLACEHOLDER.items():
        text = text.replace("\\" + char, token)
    return text.replace("\\n", "\n")


def _restore(text: str) -> str:
    for char, token in PLACEHOLDER.items():
        text = text.replace(token, char)
    return text.strip()


def escape(text: str) -> str:
    """Escape GIFT's special characters."""
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


ANSWER = re.compile(r"([=~])(%-?\d+(?:\.\d+)?%)?([^=~]*)", re.S)


def _take(start: int, body: str, meta: dict, result: ParseResult) -> None:
    where = f"line {start}"
    if "error" in meta:
        result.problems.append(Problem(where, meta["error"]))
        return
    body = re.sub(r"^\s*::.*?::", "", body, count=1, flags=re.S)
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
    stem = re.sub(r"^\[(?:plain|markdown|moodle|html)\]", "", before.strip()).strip()
    if after.strip():
        stem = f"{stem} _____ {after.strip()}"  # missing-word form
    general = ""
    if "####" in inside:
        inside, general = inside.split("####", 1)
    inside = inside.strip()
    fields = split_tags(meta.get("tags", []))
    common = {
        "rationale": _restore(general),
        "content_area": fields.get("content_area", meta.get("category", "")),
        "difficulty": fields.get("difficulty", ""),
        "code_set_year": fields.get("code_set_year"),
        "tags": fields["tags"],
    }
    head = inside.split("#", 1)[0].strip().upper()
    if head in ("T", "TRUE", "F", "FALSE"):
        truth = head.startswith("T")
        result.take(
            where,
            DraftQuestion(
                stem=_restore(stem),
                kind="true_false",
                choices=(("True", truth), ("False", not truth)),
                **common,
            ),
        )
        return
    if not inside:
        result.problems.append(Problem(where, "unsupported question type: essay"))
        return
    if inside.startswith("#"):
        result.problems.append(Problem(where, "unsupported question type: numerical"))
        return
    answers = ANSWER.findall(inside)
    if not answers or inside[0] not in "=~":
        result.problems.append(Problem(where, "the answers do not start with = or ~"))
        return
    if any("->" in text for _, _, text in answers):
        result.problems.append(Problem(where, "unsupported question type: matching"))
        return
    if all(sign == "=" for sign, _, _ in answers):
        result.problems.append(Problem(where, "unsupported question type: short answer"))
        return
    weighted = any(weight for _, weight, _ in answers)
    choices = []
    for sign, weight, text in answers:
        text = text.split("#", 1)[0]  # per-answer feedback is not kept
        if weighted:
            value = float(weight.strip("%")) if weight else (100.0 if sign == "=" else 0.0)
            correct = value > 0
        else:
            correct = sign == "="
        choices.append((_restore(text), correct))
    kind = "multiple" if weighted else "single"
    result.take(
        where, DraftQuestion(stem=_restore(stem), kind=kind, choices=tuple(choices), **common)
    )


def export(drafts: list[DraftQuestion]) -> str:
    """GIFT text for the questions, with a ``// lms-meta:`` line keeping our metadata."""
    out = ["// Exported question bank (GIFT)", ""]
    for draft in drafts:
        out.append(META + " " + json.dumps({"tags": meta_tags(draft)}))
        stem = escape(draft.stem)
        general = f" ####{escape(draft.rationale)}" if draft.rationale else ""
        if draft.kind == "true_false":
            truth = next(text for text, ok in draft.choices if ok).lower() == "true"
            out.append(f"{stem} {{{'TRUE' if truth else 'FALSE'}{general}}}")
        elif draft.kind == "multiple":
            right = sum(1 for _, ok in draft.choices if ok)
            wrong = len(draft.choices) - right
            parts = []
            for text, ok in draft.choices:
                weight = _weight(100 / right) if ok else _weight(-100 / wrong) if wrong else "0"
                parts.append(f"~%{weight}%{escape(text)}")
            out.append(f"{stem} {{\n" + "\n".join(parts) + f"\n{general.strip()}\n}}")
        else:
            parts = [("=" if ok else "~") + escape(text) for text, ok in draft.choices]
            out.append(f"{stem} {{\n" + "\n".join(parts) + f"\n{general.strip()}\n}}")
        out.append("")
    return "\n".join(out)


def _weight(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".")
