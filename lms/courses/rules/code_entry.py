"""Code-entry questions: reading the codes a student typed, and scoring them against a key.

A question has one or more answer boxes. A box's key is a list of entries, one per code the
student should report; the codes of one entry are interchangeable (either is right). Each key
code may carry modifiers (``99214-25``); the student must give the same ones, in any order.

Scoring, per box (docs/codes.md says it to students and authors):

- each key entry is worth one point;
- an entry matched by a typed code with the right modifiers earns the point; with missing or
  wrong modifiers, half of it; typed out of the order the box asks for, half of what it earned;
- each code typed that matches no key entry (an extra, or the same entry twice) takes half a
  point off;
- the box's points never go below zero; the question's credit is its boxes' points over its
  key entries, from 0 to 1, and it is right only at 1.

The order rule is the author's: ``any`` (order does not matter), ``first`` (the key's first
entry must be typed first: the first-listed diagnosis, the principal procedure) or ``exact``
(every code in the key's order)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from lms.courses.codesets.icd10cm import normalise as normalise_icd10cm
from lms.errors import Problem

CODE_SETS = ("icd10cm", "cpt", "hcpcs", "icd10pcs")
CODE_SET_NAMES = {
    "icd10cm": "ICD-10-CM",
    "cpt": "CPT",
    "hcpcs": "HCPCS Level II",
    "icd10pcs": "ICD-10-PCS",
}
ORDERS = ("any", "first", "exact")
MAX_CODES_PER_BOX = 20
MAX_BOXES = 6
MAX_BOX_TEXT = 400  # characters typed in one box

_SEPARATORS = re.compile(r"[,;\s]+")
_CPT = re.compile(r"[0-9]{4}[0-9FTU]")
_HCPCS = re.compile(r"[A-V][0-9]{4}")
_PCS = re.compile(r"[0-9A-HJ-NP-Z]{7}")
_MODIFIER = re.compile(r"[0-9A-Z]{2}")


class Verdict(StrEnum):
    """What became of one typed code, or of one key entry nobody typed."""

    RIGHT = "right"
    MODIFIER = "modifier"  # the code is right, its modifiers are not
    OUT_OF_ORDER = "out_of_order"
    WRONG = "wrong"  # matches no key entry: an extra code
    MISSING = "missing"  # a key entry no typed code matched


VERDICT_WORDS = {
    Verdict.RIGHT: "right",
    Verdict.MODIFIER: "right code, wrong or missing modifiers",
    Verdict.OUT_OF_ORDER: "right code, out of order",
    Verdict.WRONG: "not in the key (extra)",
    Verdict.MISSING: "missing",
}


@dataclass(frozen=True)
class Code:
    """A code as read: the code itself and its modifiers."""

    code: str
    modifiers: frozenset[str] = frozenset()

    def __str__(self) -> str:
        return "-".join([self.code, *sorted(self.modifiers)])


@dataclass(frozen=True)
class Box:
    """An answer box as the author keyed it."""

    label: str
    code_set: str
    order: str
    key: tuple[tuple[Code, ...], ...]  # entries; the codes of one entry are interchangeable
    feedback: tuple[str, ...] = ()


@dataclass(frozen=True)
class CodeResult:
    """One line of the feedback: a typed code and what it earned, or a missing key entry."""

    typed: str  # as the student typed it ("" for a missing entry)
    code: str  # as read (or the key's code, for a missing entry)
    verdict: Verdict
    key_entry: int | None  # the key entry it matched (or is), 0-based
    note: str = ""  # the author's feedback for that entry

    @property
    def words(self) -> str:
        return VERDICT_WORDS[self.verdict]


@dataclass(frozen=True)
class BoxResult:
    """A box's score and its feedback lines."""

    points: float
    possible: int
    lines: tuple[CodeResult, ...]


@dataclass(frozen=True)
class QuestionScore:
    """A code-entry question's credit (0..1) and each box's result."""

    credit: float
    boxes: tuple[BoxResult, ...]

    @property
    def is_correct(self) -> bool:
        return self.credit >= 1


# -- reading codes -------------------------------------------------------------------------


def split_codes(text: str) -> list[str]:
    """The codes typed in one box: separated by commas, semicolons, spaces or lines."""
    return [part for part in _SEPARATORS.split(text.strip()) if part]


def read_code(code_set: str, text: str) -> Code | str:
    """A typed code read in its code set (upper case, the ICD-10-CM dot put back where it is
    unambiguous, modifiers after hyphens), or a sentence saying why it cannot be read."""
    base, *modifiers = text.upper().split("-")
    name = CODE_SET_NAMES[code_set]
    if code_set == "icd10cm":
        if modifiers:
            return f"“{text}”: ICD-10-CM codes take no modifiers."
        code = normalise_icd10cm(base)
        if code is None:
            return f"“{text}” is not written like an ICD-10-CM code (e.g. E11.9)."
        return Code(code)
    if code_set == "icd10pcs":
        if modifiers or not _PCS.fullmatch(base):
            return f"“{text}” is not an ICD-10-PCS code: seven letters or digits, no O or I."
        return Code(base)
    shape = _CPT if code_set == "cpt" else _HCPCS
    if not shape.fullmatch(base):
        example = "99213" if code_set == "cpt" else "J1100"
        return f"“{text}” is not written like a {name} code (e.g. {example})."
    bad = [m for m in modifiers if not _MODIFIER.fullmatch(m)]
    if bad:
        return f"“{text}”: a modifier is two letters or digits after a hyphen (99214-25)."
    return Code(base, frozenset(modifiers))


def read_box(code_set: str, text: str) -> tuple[list[tuple[str, Code]], list[str]]:
    """The codes of one box as read, and a sentence for each one that cannot be read."""
    read, problems = [], []
    for part in split_codes(text):
        result = read_code(code_set, part)
        if isinstance(result, str):
            problems.append(result)
        else:
            read.append((part, result))
    return read, problems


def typed_problems(boxes: Sequence[Box], typed: Sequence[str], *, strict: bool) -> list[str]:
    """What is wrong with a student's boxes: too much text or too many codes always; codes
    that cannot be read only when ``strict`` (at submission: an autosave keeps a half-typed
    code)."""
    problems = []
    if len(typed) > len(boxes):
        return ["The answer boxes were not sent in the expected form."]
    for box, text in zip(boxes, typed, strict=False):
        if len(text) > MAX_BOX_TEXT:
            problems.append(f"{box.label}: at most {MAX_BOX_TEXT} characters.")
            continue
        count = len(split_codes(text))
        if count > MAX_CODES_PER_BOX:
            problems.append(
                f"{box.label}: at most {MAX_CODES_PER_BOX} codes in one box; there are {count}."
            )
        elif strict:
            problems += [f"{box.label}: {p}" for p in read_box(box.code_set, text)[1]]
    return problems


# -- scoring -------------------------------------------------------------------------------


def score_box(box: Box, text: str) -> BoxResult:
    """Score the codes typed in one box against its key."""
    read, unreadable = read_box(box.code_set, text)
    matched: dict[int, tuple[int, Code]] = {}  # key entry -> (position typed, code)
    lines: list[CodeResult | None] = []
    for position, (typed, code) in enumerate(read):
        entry = _entry_for(box, code, matched)
        if entry is None:
            lines.append(CodeResult(typed, str(code), Verdict.WRONG, None))
        else:
            matched[entry] = (position, code)
            lines.append(None)  # filled below, once the order is known
    in_order = _in_order(box, matched)
    points = 0.0
    for entry, (position, code) in matched.items():
        earned, verdict = 1.0, Verdict.RIGHT
        if not _modifiers_right(box.key[entry], code):
            earned, verdict = 0.5, Verdict.MODIFIER
        if entry not in in_order:
            earned, verdict = earned / 2, Verdict.OUT_OF_ORDER
        points += earned
        typed = read[position][0]
        lines[position] = CodeResult(typed, str(code), verdict, entry, _note(box, entry))
    extras = sum(1 for line in lines if line is not None and line.verdict is Verdict.WRONG)
    extras += len(unreadable)
    result_lines = [line for line in lines if line is not None]
    result_lines += [
        CodeResult(t, t, Verdict.WRONG, None, "not a code")
        for t in split_codes(text)
        if isinstance(read_code(box.code_set, t), str)
    ]
    result_lines += [
        CodeResult("", str(box.key[entry][0]), Verdict.MISSING, entry, _note(box, entry))
        for entry in range(len(box.key))
        if entry not in matched
    ]
    points = max(0.0, points - 0.5 * extras)
    return BoxResult(points, len(box.key), tuple(result_lines))


def score_question(boxes: Sequence[Box], typed: Sequence[str]) -> QuestionScore:
    """Score every box of a question; an unanswered box scores nothing."""
    texts = list(typed) + [""] * (len(boxes) - len(typed))
    results = tuple(score_box(box, text) for box, text in zip(boxes, texts, strict=False))
    possible = sum(r.possible for r in results)
    credit = sum(r.points for r in results) / possible if possible else 0.0
    return QuestionScore(credit, results)


def _entry_for(box: Box, code: Code, matched: dict) -> int | None:
    for index, entry in enumerate(box.key):
        if index not in matched and any(k.code == code.code for k in entry):
            return index
    return None


def _modifiers_right(entry: tuple[Code, ...], code: Code) -> bool:
    return any(k.code == code.code and k.modifiers == code.modifiers for k in entry)


def _in_order(box: Box, matched: dict[int, tuple[int, Code]]) -> set[int]:
    """The matched key entries that are where the box's order rule wants them."""
    entries = set(matched)
    if box.order == "first" and 0 in matched:
        first_typed = min(position for position, _ in matched.values())
        if matched[0][0] != first_typed:
            entries.discard(0)
    elif box.order == "exact":
        by_position = sorted(matched, key=lambda e: matched[e][0])
        entries = {e for rank, e in enumerate(sorted(matched)) if by_position[rank] == e}
    return entries


def _note(box: Box, entry: int) -> str:
    return box.feedback[entry] if entry < len(box.feedback) else ""


# -- the author's key ----------------------------------------------------------------------


def box_problems(data: dict, index: int) -> tuple[Box | None, list[Problem]]:
    """An author's box (as the content data or the form gives it) read and checked for form;
    whether each ICD-10-CM code exists is checked by the caller (it needs the code set)."""
    label = str(data.get("label", "")).strip() or f"Box {index + 1}"
    code_set = data.get("code_set", "")
    order = data.get("order", "any")
    problems = []
    if code_set not in CODE_SETS:
        problems.append(
            Problem(f"{label}: the code set is one of {', '.join(CODE_SETS)}.", "boxes")
        )
    if order not in ORDERS:
        problems.append(Problem(f"{label}: the order rule is one of {', '.join(ORDERS)}.", "boxes"))
    raw_key = data.get("key") or []
    if not raw_key:
        problems.append(Problem(f"{label}: the key needs at least one code.", "boxes"))
    if len(raw_key) > MAX_CODES_PER_BOX:
        problems.append(
            Problem(f"{label}: at most {MAX_CODES_PER_BOX} codes in a box's key.", "boxes")
        )
    if problems:
        return None, problems
    entries = []
    for entry in raw_key:
        codes = []
        for text in entry if isinstance(entry, list | tuple) else [entry]:
            result = read_code(code_set, str(text))
            if isinstance(result, str):
                problems.append(Problem(f"{label}: {result}", "boxes"))
            else:
                codes.append(result)
        if codes:
            entries.append(tuple(codes))
    feedback = tuple(str(f) for f in data.get("feedback") or ())
    if len(feedback) > len(raw_key):
        problems.append(Problem(f"{label}: more feedback lines than key entries.", "boxes"))
    return Box(label, code_set, order, tuple(entries), feedback), problems


def stored_box(box: Box) -> dict:
    """A box as the question keeps it (JSON)."""
    return {
        "label": box.label,
        "code_set": box.code_set,
        "order": box.order,
        "key": [[str(code) for code in entry] for entry in box.key],
        "feedback": list(box.feedback),
    }


def boxes_of(stored: Sequence[dict] | None) -> tuple[Box, ...]:
    """The boxes a question keeps, read back (they were checked when written)."""
    boxes = []
    for index, data in enumerate(stored or ()):
        box, _ = box_problems(data, index)
        if box is not None:
            boxes.append(box)
    return tuple(boxes)


# --- a key as an author writes it in the question form ------------------------------------

_BOX_HEADER = re.compile(r"\[(?P<label>[^\]]*)\]\s+(?P<code_set>\S+)(?:\s+(?P<order>\S+))?\s*$")


def key_from_text(text: str) -> tuple[list[dict], list[Problem]]:
    """A key written as text, one box per ``[label] code_set order`` line (order: any,
    first or exact; any when left out), then one key entry per line: its interchangeable
    codes joined by ``or``, and after a ``;`` the feedback students read on that code::

        [Diagnoses] icd10cm first
        E11.621 ; the diabetic foot ulcer is sequenced first
        L97.411
        [Procedures] cpt
        11042-RT or 11042

    The boxes come back as the content data gives them (``box_problems`` reads them); every
    line that is neither is a problem on the ``boxes`` field."""
    boxes: list[dict] = []
    problems: list[Problem] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        header = _BOX_HEADER.match(line)
        if line.startswith("["):
            if header is None:
                problems.append(
                    Problem(
                        f"Line {number}: a box starts with [label] code set order, such as "
                        "[Diagnoses] icd10cm first.",
                        "boxes",
                    )
                )
                continue
            boxes.append(
                {
                    "label": header["label"].strip(),
                    "code_set": header["code_set"].lower(),
                    "order": (header["order"] or "any").lower(),
                    "key": [],
                    "feedback": [],
                }
            )
            continue
        if not boxes:
            problems.append(
                Problem(f"Line {number}: start with a box line, such as [Codes] icd10cm.", "boxes")
            )
            continue
        codes, _, note = line.partition(";")
        entry = [code.strip() for code in re.split(r"\s+or\s+", codes.strip()) if code.strip()]
        if not entry:
            problems.append(Problem(f"Line {number}: no code before the ';'.", "boxes"))
            continue
        boxes[-1]["key"].append(entry)
        boxes[-1]["feedback"].append(note.strip())
    for box in boxes:  # feedback only where some entry has it
        if not any(box["feedback"]):
            box["feedback"] = []
    return boxes, problems


def key_text(boxes: Sequence[Box]) -> str:
    """A stored key written back as ``key_from_text`` reads it."""
    lines = []
    for box in boxes:
        lines.append(f"[{box.label}] {box.code_set} {box.order}")
        for index, entry in enumerate(box.key):
            note = box.feedback[index] if index < len(box.feedback) else ""
            codes = " or ".join(str(code) for code in entry)
            lines.append(f"{codes} ; {note}" if note else codes)
    return "\n".join(lines)


def typed_key(boxes: Sequence[Box]) -> tuple[str, ...]:
    """What a student who knows the key types in each box: the first code of each key entry,
    in the key's order (the demo data's and the tests' right answers)."""
    return tuple(", ".join(str(entry[0]) for entry in box.key) for box in boxes)
