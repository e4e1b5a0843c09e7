"""What an author may write: a course's and a module's fields, a lesson's Markdown (as a draft,
and stricter when it is published), and the readable difference between two versions."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from markdown_it import MarkdownIt

from lms.errors import Problem

COURSE_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,19}")
MODULE_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,29}")
TITLE_MAX = 200
TOPIC_MAX = 40
DESCRIPTION_MAX = 5_000
NOTE_MAX = 2_000
MINUTES_MAX = 24 * 60
#: A lesson's Markdown, in UTF-8 bytes: a long chapter is a tenth of this.
LESSON_MAX_BYTES = 1_000_000
SAFE_SCHEMES = ("http", "https", "mailto")

# Every link and image as the author wrote it: ``validateLink`` lets all through, so a
# ``javascript:`` link is seen here (the renderer would quietly print it as text).
_reader = MarkdownIt("commonmark", {"html": True}).enable("table")
_reader.validateLink = lambda url: True
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")


@dataclass(frozen=True)
class CourseFields:
    """A course as the author's form or the API gives it."""

    code: str
    title: str
    topic_area: str
    description: str = ""


@dataclass(frozen=True)
class ModuleFields:
    """A module as the author's form or the API gives it (the lesson is checked apart)."""

    code: str
    title: str
    estimated_minutes: int | None


def course_problems(fields: CourseFields) -> list[Problem]:
    """Every problem with a course's fields, each on its field."""
    problems = []
    if not COURSE_CODE.fullmatch(fields.code):
        problems.append(
            Problem(
                "Give a code of 2 to 20 capital letters, digits and hyphens, such as CPT-SURG.",
                "code",
            )
        )
    problems += _title_problems(fields.title)
    if not fields.topic_area.strip():
        problems.append(Problem("Give the topic area, such as coding or billing.", "topic_area"))
    elif len(fields.topic_area) > TOPIC_MAX:
        problems.append(Problem(f"Keep the topic area to {TOPIC_MAX} characters.", "topic_area"))
    if len(fields.description) > DESCRIPTION_MAX:
        problems.append(
            Problem(f"Keep the description to {DESCRIPTION_MAX:,} characters.", "description")
        )
    return problems


def module_problems(fields: ModuleFields) -> list[Problem]:
    """Every problem with a module's fields, each on its field."""
    problems = []
    if not MODULE_CODE.fullmatch(fields.code):
        problems.append(
            Problem(
                "Give a code of 2 to 30 capital letters, digits and hyphens, such as CPT-SURG-1.",
                "code",
            )
        )
    problems += _title_problems(fields.title)
    minutes = fields.estimated_minutes
    if minutes is None or not 1 <= minutes <= MINUTES_MAX:
        problems.append(
            Problem(
                f"Give the estimated time in minutes, from 1 to {MINUTES_MAX}.",
                "estimated_minutes",
            )
        )
    return problems


def note_problems(note: str) -> list[Problem]:
    """A change note is what the versions page says of a publication: it must say something."""
    if not note.strip():
        return [Problem("Say in a few words what this version changes.", "note")]
    if len(note) > NOTE_MAX:
        return [Problem(f"Keep the change note to {NOTE_MAX:,} characters.", "note")]
    return []


def lesson_problems(markdown: str, *, publishing: bool = False) -> list[Problem]:
    """Every problem with a lesson's Markdown, on the ``lesson_markdown`` field. A draft may
    still lack alt text on its images; a lesson being published may not."""
    size = len(markdown.encode("utf-8"))
    if size > LESSON_MAX_BYTES:
        return [
            Problem(
                f"The lesson is {size / 1_000_000:.1f} MB; a lesson may be at most 1 MB. "
                "Split it over two modules, or move long material into a PDF handout.",
                "lesson_markdown",
            )
        ]
    problems: list[Problem] = []
    tokens = _reader.parse(markdown)
    headings = 0
    for token in tokens:
        if token.type in ("html_block", "html_inline"):
            problems.append(_raw_html(token.content))
        if token.type == "heading_open" and token.tag == "h1":
            headings += 1
        for child in token.children or []:
            if child.type == "html_inline":
                problems.append(_raw_html(child.content))
            elif child.type == "link_open":
                problems += _link_problems(str(child.attrGet("href") or ""))
            elif child.type == "image":
                problems += _link_problems(str(child.attrGet("src") or ""))
                if publishing and not child.content.strip():
                    problems.append(
                        Problem(
                            "Give every image alt text before publishing: write what it shows "
                            f"between the brackets, as ![A lesion measured in cm]"
                            f"({child.attrGet('src')}).",
                            "lesson_markdown",
                        )
                    )
    if headings > 1:
        problems.append(
            Problem(
                f"The lesson has {headings} top-level headings (# ...); keep one, its title, "
                "and make the others sections (## ...).",
                "lesson_markdown",
            )
        )
    return _unique(problems)


def _title_problems(title: str) -> list[Problem]:
    if not title.strip():
        return [Problem("Give a title.", "title")]
    if len(title) > TITLE_MAX:
        return [Problem(f"Keep the title to {TITLE_MAX} characters.", "title")]
    return []


def _raw_html(content: str) -> Problem:
    sample = content.strip().splitlines()[0][:60] if content.strip() else content
    return Problem(
        f"Lessons are Markdown without HTML: remove {sample!r}, or put it in `code` if the "
        "lesson is about it.",
        "lesson_markdown",
    )


def _link_problems(target: str) -> list[Problem]:
    cleaned = re.sub(r"[\x00-\x20]", "", target)
    scheme = _SCHEME.match(cleaned)
    if scheme and scheme.group(1).lower() not in SAFE_SCHEMES:
        return [
            Problem(
                f"A link may go to an http, https or mailto address or to media/<file>, not to "
                f"{scheme.group(1).lower()}:.",
                "lesson_markdown",
            )
        ]
    return []


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


@dataclass(frozen=True)
class DiffLine:
    """One line of a comparison: ``same``, ``added`` or ``removed``, with its line numbers."""

    kind: str
    text: str
    old_number: int | None
    new_number: int | None


def lesson_diff(old: str, new: str, context: int = 2) -> list[DiffLine | None]:
    """The lines that changed from ``old`` to ``new`` with ``context`` unchanged lines around
    each change; a None stands for unchanged lines left out."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    shown: list[DiffLine | None] = []
    for group in matcher.get_grouped_opcodes(context):
        if shown:
            shown.append(None)
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                shown += [
                    DiffLine("same", old_lines[i], i + 1, j + 1)
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                ]
                continue
            shown += [DiffLine("removed", old_lines[i], i + 1, None) for i in range(i1, i2)]
            shown += [DiffLine("added", new_lines[j], None, j + 1) for j in range(j1, j2)]
    return shown
