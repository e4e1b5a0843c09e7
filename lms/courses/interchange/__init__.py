"""Question interchange with Moodle and other tools: GIFT, Aiken and Moodle XML.

Parsers are pure: bytes in, a ``ParseResult`` out (every item taken, every item refused with
its line or question number and the reason). Nothing here touches the database."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lms.courses.rules.questions import DraftQuestion, question_problems

FORMATS = ("gift", "aiken", "moodle_xml")
FORMAT_LABELS = {"gift": "GIFT", "aiken": "Aiken", "moodle_xml": "Moodle XML"}
KIND_LABELS = {
    "single": "multiple choice, one answer",
    "multiple": "multiple choice, several answers",
    "true_false": "true / false",
}


@dataclass(frozen=True)
class Limits:
    """How much one import may hold. An import writes in one transaction, which on SQLite holds
    the write lock that every other writer waits for: a 40,000-question file held it for a
    minute. Settings ``LMS_IMPORT_MAX_BYTES`` and ``LMS_IMPORT_MAX_QUESTIONS``."""

    max_bytes: int = 2 * 1024 * 1024
    max_questions: int = 2000

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        """The limits an app's settings give (``IMPORT_MAX_BYTES``, ``IMPORT_MAX_QUESTIONS``)."""
        return cls(
            max_bytes=int(config.get("IMPORT_MAX_BYTES", cls.max_bytes)),
            max_questions=int(config.get("IMPORT_MAX_QUESTIONS", cls.max_questions)),
        )


@dataclass(frozen=True)
class Problem:
    """An item the import cannot take: where it is and why."""

    where: str  # "line 12", "question 3", "file"
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(frozen=True)
class ParsedItem:
    """A question read from a file, with where it was found."""

    where: str
    draft: DraftQuestion


@dataclass
class ParseResult:
    """Everything read from a file; it may be imported only when ``problems`` is empty."""

    items: list[ParsedItem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    max_questions: int = Limits.max_questions
    questions: int = 0  # questions met so far, taken or refused
    too_large: bool = False  # refused by a limit, unread past it

    def count(self, where: str) -> bool:
        """Count one more question; past ``max_questions`` record why and answer False: the
        parser stops there, leaving the rest of the file unread."""
        self.questions += 1
        if self.questions <= self.max_questions:
            return True
        self.too_large = True
        self.problems.append(
            Problem(
                where,
                f"the file holds more than {self.max_questions:,} questions, the most one import "
                "takes: split it into smaller files (reading stopped here)",
            )
        )
        return False

    @property
    def ok(self) -> bool:
        """True when every item can be imported and there is at least one."""
        return not self.problems and bool(self.items)

    def take(self, where: str, draft: DraftQuestion) -> None:
        """Keep a draft, or record why it is refused."""
        refused = question_problems(draft)
        if refused:
            self.problems.extend(Problem(where, problem.message) for problem in refused)
        else:
            self.items.append(ParsedItem(where, draft))


@dataclass(frozen=True)
class Summary:
    """What a preview shows of a file: counts by kind and content area and the first problems,
    never every question (a 40,000-question preview was a 52 MB page)."""

    questions: int
    by_kind: tuple[tuple[str, int], ...]
    by_area: tuple[tuple[str, int], ...]  # the largest areas first
    more_areas: int
    problems: tuple[str, ...]
    more_problems: int


def summarise(result: ParseResult, problems: int = 50, areas: int = 20) -> Summary:
    """The summary of a parse: the first ``problems`` problems and ``areas`` areas."""
    kinds = Counter(item.draft.kind for item in result.items)
    by_area = Counter(item.draft.content_area or "(no content area)" for item in result.items)
    ranked = sorted(by_area.items(), key=lambda pair: (-pair[1], pair[0]))
    return Summary(
        questions=len(result.items),
        by_kind=tuple((KIND_LABELS[kind], kinds[kind]) for kind in KIND_LABELS if kinds[kind]),
        by_area=tuple(ranked[:areas]),
        more_areas=max(0, len(ranked) - areas),
        problems=tuple(str(problem) for problem in result.problems[:problems]),
        more_problems=max(0, len(result.problems) - problems),
    )


class UnreadableFile(ValueError):
    """The file cannot be read at all (empty, not UTF-8)."""


def decode(data: bytes) -> str:
    """The file's text; refuses an empty file and one that is not UTF-8."""
    if not data.strip():
        raise UnreadableFile("The file is empty.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UnreadableFile(
            f"The file is not UTF-8 text (byte {error.start}, line {line}). "
            "Save it as UTF-8 and try again."
        ) from error
    if "\x00" in text:
        raise UnreadableFile("The file is not a text file.")
    return text


def size_problem(size: int, limits: Limits) -> Problem | None:
    """Why a file of ``size`` bytes is refused unread, or None when it is within the limit."""
    if size <= limits.max_bytes:
        return None
    limit = limits.max_bytes
    shown = f"{limit / 1024 / 1024:.1f} MB" if limit >= 1024 * 1024 else f"{limit / 1024:.0f} KB"
    return Problem(
        "file",
        f"the file is larger than {shown}, the most one import takes: split it into smaller files",
    )


def parse(data: bytes, fmt: str, limits: Limits | None = None) -> ParseResult:
    """Parse a file in one of ``FORMATS``, within ``limits``: a file over the size limit is not
    read at all, and reading stops at the first question past the count limit."""
    from lms.courses.interchange import aiken, gift, moodle_xml  # the parsers need this module

    limits = limits or Limits()
    too_large = size_problem(len(data), limits)
    if too_large:
        return ParseResult(problems=[too_large], too_large=True)
    try:
        text = decode(data)
    except UnreadableFile as error:
        return ParseResult(problems=[Problem("file", str(error))])
    parser = {"gift": gift.parse, "aiken": aiken.parse, "moodle_xml": moodle_xml.parse}.get(fmt)
    if parser is None:
        return ParseResult(problems=[Problem("file", f"unknown format {fmt!r}")])
    result = parser(text, limits.max_questions)
    if not result.items and not result.problems:
        result.problems.append(Problem("file", "no questions were found in the file"))
    return result


# What each format's content shows, looked for in this order (Moodle names its GIFT exports
# .txt, so the extension alone said Aiken).
XML_START = re.compile(r"\A\s*(?:<\?xml\b|<quiz\b)")
GIFT_SIGNS = re.compile(
    r"^\s*::[^\n]*?::|^\s*\$CATEGORY:|\{\s*[=~]|\{\s*(?:T|F|TRUE|FALSE)\s*[#}]", re.M
)
AIKEN_ANSWER = re.compile(r"^\s*ANSWER:\s*[A-Za-z]\s*$", re.M)
EXTENSIONS = {".gift": "gift", ".xml": "moodle_xml", ".txt": "aiken"}
GUESS_WINDOW = 64 * 1024  # a file shows its format in its first questions


def guess_format(data: bytes, filename: str = "") -> str | None:
    """The format the content shows: Moodle XML starts with ``<?xml`` or ``<quiz``; GIFT has
    ``::title::``, ``$CATEGORY:`` or ``{`` answer blocks with ``=``/``~`` (or ``{T}``); Aiken
    has ``ANSWER: X`` lines. Only when the content shows none: the file name's extension."""
    text = data[:GUESS_WINDOW].decode("utf-8-sig", errors="replace")
    if XML_START.match(text):
        return "moodle_xml"
    if GIFT_SIGNS.search(text):
        return "gift"
    if AIKEN_ANSWER.search(text):
        return "aiken"
    name = filename.lower()
    return next((fmt for ext, fmt in EXTENSIONS.items() if name.endswith(ext)), None)


META_TAGS = {"area": "content_area", "difficulty": "difficulty", "year": "code_set_year"}


def split_tags(tags: list[str]) -> dict:
    """Our metadata travels as tags ``area:...``, ``difficulty:...``, ``year:...``."""
    fields: dict = {"tags": []}
    for tag in tags:
        prefix, _, value = tag.partition(":")
        name = META_TAGS.get(prefix.strip().lower())
        if name == "content_area" and not value.strip():
            fields[name] = ""  # explicitly no area: do not fall back to the category
        elif name and value.strip():
            value = value.strip()
            if name == "code_set_year":
                fields[name] = _year(value)
            else:
                fields[name] = value
        elif tag.strip():
            fields["tags"].append(tag.strip())
    fields["tags"] = tuple(fields["tags"])
    return fields


def _year(value: str) -> int | None:
    """A ``year:`` tag's number (ASCII digits only: "²" passes ``isdigit`` but not ``int``);
    more digits than a year has read as 0, which the draft check refuses with its message."""
    if not (value.isascii() and value.isdigit()):
        return None
    return int(value) if len(value) <= 4 else 0


def meta_tags(draft: DraftQuestion) -> list[str]:
    """The tags that carry a question's metadata and its own tags."""
    tags = [f"area:{draft.content_area}"]
    if draft.difficulty:
        tags.append(f"difficulty:{draft.difficulty}")
    if draft.code_set_year:
        tags.append(f"year:{draft.code_set_year}")
    return tags + list(draft.tags)


def category_area(path: str) -> str:
    """The content area a Moodle category path suggests: its last part, without the
    ``$course$``/``$system$`` prefixes (``$course$/Coding/ICD-10-CM`` -> ``ICD-10-CM``)."""
    parts = [p.strip() for p in path.strip().split("/") if p.strip()]
    parts = [p for p in parts if not (p.startswith("$") and p.endswith("$")) and p != "top"]
    return parts[-1][:80] if parts else ""
