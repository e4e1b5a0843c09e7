"""ICD-10-CM codes checked against the real tabular list: does a code exist, is it billable
or a category that needs more characters, is a 7th character missing, and which pairs does an
Excludes1 note forbid.

The tabular list is the one ``simple-icd-10-cm`` ships (the April 1, 2026 release). Importing
it parses the whole XML file (about 1.5 s and 170 MB), so it is imported on first use, not when
the app starts: workers that never check a code never pay for it."""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType

from lms.courses.codesets import MAX_CODES

RELEASE = "April 1, 2026"  # the tabular list simple-icd-10-cm 1.5 ships
RELEASE_DATE = "2026-04-01"  # the same, as a code-entry key records it

# A letter, a digit, a digit or letter; then, after an optional dot, up to four more.
_SHAPE = re.compile(r"([A-Z][0-9][0-9A-Z])\.?([0-9A-Z]{0,4})")


@functools.cache
def tabular() -> ModuleType:
    """The ``simple_icd_10_cm`` module, its tabular list parsed on the first call."""
    with warnings.catch_warnings():
        # It reads its data with importlib.resources.read_text, deprecated in Python 3.11
        # and 3.12 (and kept in 3.13): nothing for us to act on.
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm

    return simple_icd_10_cm


def normalise(text: str) -> str | None:
    """A code as the tabular list writes it (upper case, no spaces, the dot after the third
    character: ``"e119"`` -> ``"E11.9"``), or ``None`` when the text is not shaped like an
    ICD-10-CM code at all. Says nothing about whether the code exists."""
    squeezed = "".join(text.split()).upper()
    match = _SHAPE.fullmatch(squeezed)
    if match is None:
        return None
    category, rest = match.groups()
    if not rest and squeezed.endswith("."):
        return None  # "E11." : a dot with nothing after it
    return f"{category}.{rest}" if rest else category


@dataclass(frozen=True)
class CodeCheck:
    """What the tabular list says of one code as written."""

    code: str  # as normalised, or the text as given when it is not shaped like a code
    exists: bool
    billable: bool
    needs_more_characters: bool
    needs_seventh_character: bool
    description: str
    message: str
    seventh_characters: tuple[str, ...] = ()
    suggestion: str | None = None  # a code with the placeholder X filled in, when that exists


def is_code(code: str) -> bool:
    """Whether a normalised code is an ICD-10-CM category or code (not a chapter number nor a
    block's range such as A00-A09)."""
    cm = tabular()
    return cm.is_valid_item(code) and (cm.is_category(code) or cm.is_subcategory(code))


def check(text: str) -> CodeCheck:
    """Check one code as a coder typed it."""
    code = normalise(text)
    if code is None:
        shown = " ".join(text.split())[:20]
        return CodeCheck(
            shown, False, False, False, False, "",
            f"“{shown}” is not written like an ICD-10-CM code: a letter, a digit, a digit or "
            "letter, then up to four more after a dot (e.g. E11.9).",
        )  # fmt: skip
    if not is_code(code):
        suggestion = _with_placeholder(code)
        hint = f"; did you mean {suggestion}? (X holds the empty places)" if suggestion else ""
        return CodeCheck(
            code, False, False, False, False, "", f"{code}: no such ICD-10-CM code{hint}",
            suggestion=suggestion,
        )  # fmt: skip
    cm = tabular()
    description = cm.get_description(code)
    if cm.is_leaf(code):
        return CodeCheck(
            code, True, True, False, False, description,
            f"{code} {description}: valid and billable",
        )  # fmt: skip
    children = cm.get_children(code)
    if all(cm.is_extended_subcategory(child) for child in children):
        sevenths = tuple(child[-1] for child in children)
        return CodeCheck(
            code, True, False, True, True, description,
            f"{code} {description}: needs a 7th character ({', '.join(sevenths)})",
            seventh_characters=sevenths,
        )  # fmt: skip
    kind = "a category" if cm.is_category(code) else "a subcategory"
    return CodeCheck(
        code, True, False, True, False, description,
        f"{code} {description}: {kind}, not billable: it needs more characters",
    )  # fmt: skip


def check_many(texts: Sequence[str]) -> list[CodeCheck]:
    """Check up to ``MAX_CODES`` codes; more is refused with ``ValueError``."""
    if len(texts) > MAX_CODES:
        raise ValueError(f"Check at most {MAX_CODES} codes at a time; there are {len(texts)}.")
    return [check(text) for text in texts]


def _with_placeholder(code: str) -> str | None:
    """The code with X filling the places before its last character, when that code exists
    (T36.01A -> T36.0X1A is wrong; T36.0X1A typed as T360X1A is right; S00.00A -> S00.00XA)."""
    bare = code.replace(".", "")
    if len(bare) >= 7 or len(bare) < 4 or not bare[-1].isalpha():
        return None
    padded = bare[:-1] + "X" * (7 - len(bare)) + bare[-1]
    candidate = f"{padded[:3]}.{padded[3:]}"
    return candidate if is_code(candidate) else None


# --- Notes up the tree --------------------------------------------------------------------


def lineage(code: str) -> Iterator[tuple[str, bool]]:
    """The code and each of its ancestors up to the chapter, each as (name, is_block): a
    block that holds a single category has the category's name (B99), and the package tells
    the two apart with ``prioritize_blocks``."""
    cm = tabular()
    name, block = code, False
    while name:
        yield name, block
        parent = cm.get_parent(name, prioritize_blocks=block)
        block = parent == name or (parent != "" and not _is_code_name(parent))
        name = parent


def _is_code_name(name: str) -> bool:
    return _SHAPE.fullmatch(name.replace(".", "")) is not None and "-" not in name


def heading(name: str, block: bool) -> str:
    """How a note's source is named on a page: the code, the block's range, or the chapter."""
    if name.isdigit():
        return f"chapter {name}"
    return f"block {name}" if block else name


# --- Excludes1 ----------------------------------------------------------------------------

_GROUP = re.compile(r"\(([^()]*)\)")
_REF = r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{0,4})?"
_PART = re.compile(rf"({_REF})(?:\.?-)?(?:\s*-\s*({_REF})(?:\.?-)?)?")


@dataclass(frozen=True)
class Reference:
    """A code or range an Excludes1 note names: ``low`` to ``high`` (dotless), each matching
    a code and every code below it."""

    low: str
    high: str

    def covers(self, code: str) -> bool:
        bare = code.replace(".", "")
        return bare[: len(self.low)] >= self.low and bare[: len(self.high)] <= self.high


def references(note: str) -> list[Reference]:
    """The codes and ranges in a note's parentheses: "(E08.-)", "(P70.2)", "(E08-E13)",
    "(P70.0-P70.2)", "(E08.-, E09.-)". A parenthesis holding words besides codes ("S00-T88
    with 7th character S") is skipped: its condition is not one a code range can say."""
    found = []
    for group in _GROUP.findall(note):
        parts = [part.strip() for part in group.split(",") if part.strip()]
        matches = [_PART.fullmatch(part) for part in parts]
        if not matches or not all(matches):
            continue
        for match in matches:
            low, high = match.group(1), match.group(2) or match.group(1)  # type: ignore[union-attr]
            found.append(Reference(low.replace(".", ""), high.replace(".", "")))
    return found


def excludes1_notes(code: str) -> list[tuple[str, str]]:
    """Every Excludes1 note that applies to a code: its own and its ancestors', each as
    (where it is written, the note)."""
    cm = tabular()
    return [
        (heading(name, block), note)
        for name, block in lineage(code)
        for note in cm.get_excludes1(name, prioritize_blocks=block)
    ]


def excludes1_conflicts(texts: Sequence[str]) -> list[tuple[str, str, str]]:
    """Pairs of codes reported together that an Excludes1 note forbids: (a, b, note) where a
    note on ``a`` or one of its ancestors names ``b`` (or a range holding it). Codes that do
    not exist are left out; each pair is reported once, with the first note found."""
    codes = list(dict.fromkeys(c for c in map(normalise, check_bounds(texts)) if c))
    codes = [code for code in codes if is_code(code)]
    conflicts, seen = [], set()
    for a in codes:
        for where, note in excludes1_notes(a):
            for b in codes:
                pair = frozenset((a, b))
                if b == a or pair in seen:
                    continue
                if any(ref.covers(b) for ref in references(note)):
                    seen.add(pair)
                    conflicts.append((a, b, f"Excludes1 at {where}: {note}"))
    return conflicts


def check_bounds(texts: Sequence[str]) -> Sequence[str]:
    if len(texts) > MAX_CODES:
        raise ValueError(f"Check at most {MAX_CODES} codes at a time; there are {len(texts)}.")
    return texts


# --- A code's page ------------------------------------------------------------------------

# The tabular list's notes, as the package gives them: lists of lines, or text with one line
# per item.
_LIST_NOTES = (
    ("Inclusion terms", "get_inclusion_term"),
    ("Includes", "get_includes"),
    ("Excludes1 (never coded together with this code)", "get_excludes1"),
    ("Excludes2 (not included here, but may be coded together)", "get_excludes2"),
)
_TEXT_NOTES = (
    ("Code first", "get_code_first"),
    ("Use additional code", "get_use_additional_code"),
    ("Code also", "get_code_also"),
    ("Notes", "get_notes"),
    ("7th character note", "get_seven_chr_note"),
)


@dataclass(frozen=True)
class Note:
    """One kind of note as written at one place: the code itself or an ancestor."""

    kind: str
    where: str  # the code, "block A00-A09" or "chapter 1"
    own: bool  # written at the code itself (not inherited from above)
    lines: tuple[str, ...]


@dataclass(frozen=True)
class CodeDetails:
    """What the look-up shows of a code."""

    check: CodeCheck
    ancestors: tuple[tuple[str, str], ...]  # (name as shown, description), nearest first
    children: tuple[tuple[str, str, bool], ...]  # (code, description, billable)
    notes: tuple[Note, ...]
    seventh_characters: tuple[tuple[str, str], ...]  # (character, meaning)


def details(code: str) -> CodeDetails:
    """A code's description, place in the tree, children and every note that applies to it:
    its own and those written on its ancestors (a category's Excludes1 covers its codes)."""
    cm = tabular()
    chain = list(lineage(code))
    notes = []
    for kind, getter in _LIST_NOTES + _TEXT_NOTES:
        for name, block in chain:
            value = getattr(cm, getter)(name, prioritize_blocks=block)
            lines = tuple(value) if isinstance(value, list) else tuple(value.splitlines())
            if lines:
                notes.append(Note(kind, heading(name, block), name == code, lines))
    seventh = cm.get_seven_chr_def(code, search_in_ancestors=True)
    return CodeDetails(
        check=check(code),
        ancestors=tuple(
            (heading(name, block), cm.get_description(name, prioritize_blocks=block))
            for name, block in chain[1:]
        ),
        children=tuple(
            (child, cm.get_description(child), cm.is_leaf(child)) for child in cm.get_children(code)
        ),
        notes=tuple(notes),
        seventh_characters=tuple(seventh.items()),
    )
