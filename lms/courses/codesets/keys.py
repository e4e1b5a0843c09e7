"""An author's code-entry key checked against the code sets: every ICD-10-CM code must exist
and be billable in the bundled tabular list; CPT, HCPCS Level II and ICD-10-PCS codes are
checked by form (their lists are not shipped: docs/codes.md)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from lms.courses.codesets import icd10cm
from lms.courses.rules import code_entry
from lms.errors import Problem

_HTML = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")
MAX_CASE = 20_000  # characters of a case note


def release_of(boxes: Sequence[code_entry.Box]) -> str | None:
    """The code-set release a key is checked against (the ICD-10-CM one, when it names any
    ICD-10-CM code)."""
    if any(box.code_set == "icd10cm" for box in boxes):
        return f"icd10cm {icd10cm.RELEASE_DATE}"
    return None


def case_problems(case: str) -> list[Problem]:
    """A case note is plain text: no HTML, not empty, not longer than ``MAX_CASE``."""
    problems = []
    if not case.strip():
        problems.append(Problem("A code-entry question needs its case (the note to code).", "case"))
    if _HTML.search(case):
        problems.append(Problem("The case is plain text: take out the HTML tags (<...>).", "case"))
    if len(case) > MAX_CASE:
        problems.append(Problem(f"The case is at most {MAX_CASE:,} characters.", "case"))
    return problems


def checked_boxes(raw: Sequence[dict]) -> tuple[list[code_entry.Box], list[Problem]]:
    """The boxes of a key read and checked: every problem, each on the ``boxes`` field."""
    if not raw:
        return [], [Problem("A code-entry question needs at least one answer box.", "boxes")]
    if len(raw) > code_entry.MAX_BOXES:
        return [], [Problem(f"At most {code_entry.MAX_BOXES} answer boxes.", "boxes")]
    boxes, problems = [], []
    for index, data in enumerate(raw):
        box, box_problems = code_entry.box_problems(dict(data), index)
        problems += box_problems
        if box is None:
            continue
        boxes.append(box)
        if box.code_set == "icd10cm":
            for entry in box.key:
                for code in entry:
                    check = icd10cm.check(code.code)
                    if not check.billable:
                        problems.append(Problem(f"{box.label}: {check.message}", "boxes"))
    return boxes, problems
