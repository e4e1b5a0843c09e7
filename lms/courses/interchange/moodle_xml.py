"""Moodle XML for multichoice (single or multiple answer) and truefalse questions.

Parsed with defusedxml, which refuses entity expansion and external entities, so an
untrusted file cannot blow up memory or read local files."""

from __future__ import annotations

import html
import re
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 - writing only

import defusedxml.ElementTree as SafeET
import nh3
from defusedxml import DefusedXmlException

from lms.courses.interchange import (
    Limits,
    ParseResult,
    Problem,
    category_area,
    meta_tags,
    split_tags,
)
from lms.courses.rules.questions import DraftQuestion


def _text(element: Element | None) -> str:
    if element is None:
        return ""
    node = element.find("text")
    raw = node.text if node is not None and node.text else ""
    if element.get("format", "html") in ("html", "moodle_auto_format"):
        raw = html.unescape(nh3.clean(raw, tags=set()))
    return re.sub(r"[ \t]+", " ", raw).strip()


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
        kind = element.get("type", "")
        if kind == "category":
            category = category_area(_text(element.find("category")))
            continue
        number += 1
        where = f"question {number}"
        tags = [_text(tag) for tag in element.findall("tags/tag")]
        fields = split_tags(tags)
        common = {
            "stem": _text(element.find("questiontext")),
            "rationale": _text(element.find("generalfeedback")),
            "content_area": fields.get("content_area", category),
            "difficulty": fields.get("difficulty", ""),
            "code_set_year": fields.get("code_set_year"),
            "tags": fields["tags"],
        }
        answers = element.findall("answer")
        try:
            weights = [float(a.get("fraction", "0")) for a in answers]
        except ValueError:
            result.problems.append(Problem(where, "an answer's fraction is not a number"))
            continue
        if kind == "truefalse":
            choices = []
            for answer, weight in zip(answers, weights, strict=True):
                value = _text(answer).lower()
                choices.append(
                    (
                        "True" if value == "true" else "False" if value == "false" else value,
                        weight > 0,
                    )
                )
            result.take(
                where,
                DraftQuestion(
                    kind="true_false",
                    choices=tuple(sorted(choices, key=lambda c: c[0] != "True")),
                    **common,
                ),
            )
        elif kind == "multichoice":
            single = (element.findtext("single") or "true").strip().lower() in ("true", "1")
            choices = tuple((_text(a), w > 0) for a, w in zip(answers, weights, strict=True))
            result.take(
                where,
                DraftQuestion(kind="single" if single else "multiple", choices=choices, **common),
            )
        else:
            result.problems.append(Problem(where, f"unsupported question type: {kind or '(none)'}"))
    return result


def export(drafts: list[DraftQuestion], category: str) -> bytes:
    """Moodle XML for the questions, in one category named after the bank."""
    quiz = Element("quiz")
    head = SubElement(quiz, "question", type="category")
    SubElement(SubElement(head, "category"), "text").text = f"$course$/{category}"
    for index, draft in enumerate(drafts, start=1):
        kind = "truefalse" if draft.kind == "true_false" else "multichoice"
        question = SubElement(quiz, "question", type=kind)
        SubElement(SubElement(question, "name"), "text").text = f"{category} {index}"
        text = SubElement(question, "questiontext", format="plain_text")
        SubElement(text, "text").text = draft.stem
        feedback = SubElement(question, "generalfeedback", format="plain_text")
        SubElement(feedback, "text").text = draft.rationale
        right = sum(1 for _, ok in draft.choices if ok)
        wrong = len(draft.choices) - right
        if kind == "multichoice":
            SubElement(question, "single").text = "true" if draft.kind == "single" else "false"
            SubElement(question, "shuffleanswers").text = "true"
        for choice_text, ok in draft.choices:
            if draft.kind == "multiple":
                fraction = 100 / right if ok else (-100 / wrong if wrong else 0)
            else:
                fraction = 100 if ok else 0
            answer = SubElement(
                question,
                "answer",
                fraction=f"{fraction:.5f}".rstrip("0").rstrip("."),
                format="plain_text",
            )
            value = choice_text.lower() if kind == "truefalse" else choice_text
            SubElement(answer, "text").text = value
        tags = meta_tags(draft)
        if tags:
            holder = SubElement(question, "tags")
            for tag in tags:
                SubElement(SubElement(holder, "tag"), "text").text = tag
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(
        quiz, encoding="utf-8", xml_declaration=False
    )
