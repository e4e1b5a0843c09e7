"""Code-set release files a school loads (``flask codes load``), read and compared with the
codes the question keys name. No Flask and no database.

Formats read:

- ICD-10-CM, CMS's yearly files: the order file (``icd10cm_order_2027.txt``: a 5-digit order
  number, the code without its dot, ``1`` if billable or ``0`` for a header, the short and the
  long description, in fixed columns) or the codes file (``icd10cm_codes_2027.txt``: the code
  without its dot, spaces, the description; every code in it is billable).
- HCPCS Level II: CMS's fixed-width file (the code in the first five characters, the long
  description after the record's sequence fields) or any file whose lines start with a code
  followed by a tab, comma or spaces and a description.
- CPT: the school's licensed file, one code per line, optionally followed by a tab or comma
  and a description, which is not kept (the AMA's descriptors are copyrighted)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

LOADABLE = ("icd10cm", "hcpcs", "cpt")
MAX_BAD_LINES_SHOWN = 5

_ORDER = re.compile(r"^\d{5} ([A-Z0-9]{3,7}) +([01]) (.*)$")
_ICD_CODE = re.compile(r"^([A-Z][0-9][0-9A-Z][0-9A-Z]{0,4})\s+(.+)$")
_HCPCS = re.compile(r"^([A-V][0-9]{4})[\s,\t]*(.*)$")
_CPT = re.compile(r"^([0-9]{4}[0-9FTU])(?:[\t,]\s*(.*))?$")


class ReleaseError(ValueError):
    """A release file that cannot be read: every bad line named (the first few)."""


def dotted(code: str) -> str:
    """An ICD-10-CM code as the tabular list writes it: the dot after the third character."""
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


def read_release(code_set: str, text: str) -> dict[str, tuple[bool, str]]:
    """Every code of a release file: {code: (billable, description)}; ``ReleaseError`` when
    a line cannot be read or the file holds no code."""
    codes: dict[str, tuple[bool, str]] = {}
    bad: list[int] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip():
            continue
        read = _read_line(code_set, line)
        if read is None:
            bad.append(number)
        else:
            codes[read[0]] = (read[1], read[2])
    if bad:
        shown = ", ".join(str(n) for n in bad[:MAX_BAD_LINES_SHOWN])
        more = f" and {len(bad) - MAX_BAD_LINES_SHOWN} more" if len(bad) > 5 else ""
        raise ReleaseError(
            f"{len(bad)} line(s) are not a {code_set} release line: line {shown}{more}."
        )
    if not codes:
        raise ReleaseError("The file holds no code.")
    return codes


def _read_line(code_set: str, line: str) -> tuple[str, bool, str] | None:
    if code_set == "icd10cm":
        order = _ORDER.match(line)
        if order:
            code, billable, rest = order.groups()
            long_description = rest[61:].strip() if len(rest) > 61 else rest.strip()
            return dotted(code), billable == "1", long_description
        plain = _ICD_CODE.match(line)
        return (dotted(plain.group(1)), True, plain.group(2).strip()) if plain else None
    if code_set == "hcpcs":
        match = _HCPCS.match(line)
        return (match.group(1), True, (match.group(2) or "").strip()) if match else None
    match = _CPT.match(line.strip())
    return (match.group(1), True, "") if match else None


@dataclass(frozen=True)
class KeyChange:
    """A key code a new release deleted or changed, in a question to review."""

    question_id: int
    code: str
    change: str  # "deleted", "no longer billable", "description changed"
    detail: str = ""


def key_changes(
    keys: Mapping[int, Iterable[str]],
    release: Mapping[str, Sequence],
    before: Mapping[str, str],
) -> list[KeyChange]:
    """What a release changes in the keys ({question id: its codes in this code set}):
    codes it no longer has, codes no longer billable, and descriptions that differ from
    ``before`` (the descriptions the keys were checked against, where known)."""
    changes = []
    for question_id, codes in keys.items():
        for code in dict.fromkeys(codes):
            entry = release.get(code)
            if entry is None:
                changes.append(KeyChange(question_id, code, "deleted"))
                continue
            billable, description = entry[0], entry[1]
            if not billable:
                changes.append(KeyChange(question_id, code, "no longer billable", description))
            elif code in before and description and before[code] != description:
                changes.append(
                    KeyChange(
                        question_id,
                        code,
                        "description changed",
                        f"was “{before[code]}”, now “{description}”",
                    )
                )
    return changes
