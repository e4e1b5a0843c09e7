"""Moodle XML for multichoice (single or multiple answer) and truefalse questions.

Parsed with defusedxml, which refuses entity expansion and external entities, so an
untrusted file cannot blow up memory or read local files."""

from __future__ import annotations

import re
from xml.etree.ElementTree import (  # noqa: S405 - writing only
    Comment,
    Element,
    SubElement,
    tostring,
)

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

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


def _raw(element: Element | None) -> str:
    node = element.find("text") if element is not None else None
    return node.text if node is not None and node.text else ""


def _text(element: Element | None, default: str = "html") -> str:
    """The plain text of a Moodle text element (``<text>`` in it, in its ``format``)."""
    if element is None:
        return ""
    return markup.to_text(_raw(element), element.get("format", default).strip())


def _media(element: Element) -> bool:
    """Whether the question embeds a file (``<file>``, the old ``<image>``) or shows one."""
    if element.find(".//file") is not None or element.find("image") is not None:
        return True
    return markup.has_media(*(node.text or "" for node in element.iter("text")))


DECLARED_ENCODING = re.compile(r"""\A\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']""")
UTF8_NAMES = ("utf-8", "utf8", "us-ascii", "ascii")


def _read(text: str) -> Element | Problem:
    """The file's root element, or why it cannot be read. The text is already UTF-8 (``decode``),
    so a declaration naming another encoding is refused rather than handed to expat, which
    raised ``LookupError`` (a 500) for an unknown name such as "x-unknown"."""
    declared = DECLARED_ENCODING.match(text)
    if declared and declared.group(1).strip().lower() not in UTF8_NAMES:
        return Problem(
            "file",
            f"the XML declaration names the encoding {declared.group(1)[:40]!r}; only UTF-8 is "
            'read (Moodle writes UTF-8): save the file as UTF-8 with encoding="UTF-8"',
        )
    try:
        return SafeET.fromstring(text.encode("utf-8"))
    except DefusedXmlException:
        return Problem("file", "the XML uses entities or a DTD, which are refused")
    except SafeET.ParseError as error:
        line = error.position[0] if getattr(error, "position", None) else "?"
        return Problem(
            f"line {line}", f"the file is not well-formed XML ({error}); is it truncated?"
        )
    except (ValueError, LookupError) as error:
        return Problem("file", f"the file cannot be read as XML ({error})")


def parse(text: str, max_questions: int = Limits.max_questions) -> ParseResult:
    """Read Moodle XML; report each question of a type we do not take."""
    result = ParseResult(max_questions=max_questions)
    root = _read(text)
    if isinstance(root, Problem):
        result.problems.append(root)
        return result
    if root.tag != "quiz":
        result.problems.append(Problem("file", "the root element is not <quiz>"))
        return result
    elements = root.findall("question")
    questions = [element for element in elements if element.get("type") != "category"]
    if len(questions) > max_questions:  # refused before any question is read
        result.questions = max_questions
        result.count(f"question {max_questions + 1}")
        return result
    number = 0
    category = ""
    for element in elements:
        if element.get("type") == "category":
            category = category_area(_text(element.find("category")))
            continue
        number += 1
        _take(element, number, category, result)
    return result


def _take(element: Element, number: int, category: str, result: ParseResult) -> None:
    kind = element.get("type", "")
    name = _text(element.find("name"), "plain_text")
    where = f"question {number}" + (f" ({name[:60]})" if name else "")
    if kind not in ("multichoice", "truefalse"):
        result.problems.append(Problem(where, f"unsupported question type: {kind or '(none)'}"))
        return
    if _media(element):
        result.problems.append(Problem(where, markup.MEDIA_REASON))
        return
    question = element.find("questiontext")
    fmt = question.get("format", "html") if question is not None else "html"  # the default
    single = element.findtext("single")  # Moodle's trans_single: "false", "0" or "" is several
    if kind == "truefalse":
        ours = "true_false"
    else:
        ours = (
            "single"
            if single is None or single.strip().lower() not in ("false", "0", "")
            else "multiple"
        )
    answers = element.findall("answer")
    graded = grades.read_grades(ours, [a.get("fraction", "0").strip() for a in answers])
    if graded.problem:
        result.problems.append(Problem(where, graded.problem))
        return
    texts = [_text(answer, fmt) for answer in answers]
    if kind == "truefalse":
        texts = [{"true": "True", "false": "False"}.get(t.lower(), t) for t in texts]
    choices = list(zip(texts, graded.correct, strict=True))
    feedback = [
        (text, _text(answer.find("feedback"), fmt))
        for text, answer in zip(texts, answers, strict=True)
    ]
    if kind == "truefalse":
        choices.sort(key=lambda choice: choice[0] != "True")
    fields = split_tags([_text(tag) for tag in element.findall("tags/tag")])
    result.take(
        where,
        DraftQuestion(
            stem=_text(element.find("questiontext")),
            kind=ours,
            choices=tuple(choices),
            rationale=markup.rationale_with_feedback(
                _text(element.find("generalfeedback"), fmt), feedback
            ),
            content_area=fields.get("content_area", category),
            difficulty=fields.get("difficulty", ""),
            code_set_year=fields.get("code_set_year"),
            tags=fields["tags"],
        ),
    )


def export(drafts: list[DraftQuestion], category: str) -> tuple[bytes, list[str]]:
    """Moodle XML for the questions, in one category named after the bank, with grades from
    Moodle's list only; the questions its list cannot grade are left out and listed (a
    file with one grade Moodle refuses is refused whole)."""
    quiz = Element("quiz")
    head = SubElement(quiz, "question", type="category")
    SubElement(SubElement(head, "category"), "text").text = f"$course$/{category}"
    skipped = []
    for index, draft in enumerate(drafts, start=1):
        answer_grades = grades.export_grades(draft)
        if answer_grades is None:
            skipped.append(f"question {index}: {grades.TOO_MANY_RIGHT}")
            continue
        kind = "truefalse" if draft.kind == "true_false" else "multichoice"
        question = SubElement(quiz, "question", type=kind)
        SubElement(SubElement(question, "name"), "text").text = f"{category} {index}"
        text = SubElement(question, "questiontext", format="plain_text")
        SubElement(text, "text").text = draft.stem
        feedback = SubElement(question, "generalfeedback", format="plain_text")
        SubElement(feedback, "text").text = draft.rationale
        if kind == "multichoice":
            SubElement(question, "single").text = "true" if draft.kind == "single" else "false"
            SubElement(question, "shuffleanswers").text = "true"
        for (choice_text, _), grade in zip(draft.choices, answer_grades, strict=True):
            answer = SubElement(question, "answer", fraction=grade, format="plain_text")
            value = choice_text.lower() if kind == "truefalse" else choice_text
            SubElement(answer, "text").text = value
        tags = meta_tags(draft)
        if tags:
            holder = SubElement(question, "tags")
            for tag in tags:
                SubElement(SubElement(holder, "tag"), "text").text = tag
    if skipped:
        quiz.insert(0, Comment(" Left out (Moodle could not grade them): " + "; ".join(skipped)))
    body = tostring(quiz, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body, skipped
