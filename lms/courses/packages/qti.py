"""QTI 1.2 as the IMS Common Cartridge profile uses it (``imsqti_xmlv1p2/imscc_xmlv1p1/
assessment``): read its multiple-choice, multiple-response and true/false items, and write
them. Other item types are reported, not guessed at."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 - writing only

from lms.courses.interchange import markup
from lms.courses.packages import PackageError
from lms.courses.packages.archive import local
from lms.courses.packages.report import Skipped

QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
PROFILES = {
    "cc.multiple_choice.v0p1": "single",
    "cc.multiple_response.v0p1": "multiple",
    "cc.true_false.v0p1": "true_false",
}
CANVAS_TYPES = {  # Canvas also names its type in ``question_type``
    "multiple_choice_question": "single",
    "multiple_answers_question": "multiple",
    "true_false_question": "true_false",
}


@dataclass
class Assessment:
    ident: str
    title: str
    max_attempts: int | None = None
    time_limit_minutes: int | None = None
    questions: list[dict] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if local(child.tag) == name]


def _all(element: Element, name: str) -> list[Element]:
    return [node for node in element.iter() if local(node.tag) == name]


def _first(element: Element, name: str) -> Element | None:
    found = _all(element, name)
    return found[0] if found else None


def _metadata(element: Element) -> dict[str, str]:
    fields = {}
    for node in _all(element, "qtimetadatafield"):
        label, entry = _first(node, "fieldlabel"), _first(node, "fieldentry")
        if label is not None and label.text:
            fields[label.text.strip()] = (entry.text or "").strip() if entry is not None else ""
    return fields


def _mattext(element: Element | None) -> str:
    """The plain text of a ``material``'s ``mattext`` (HTML read as text)."""
    if element is None:
        return ""
    node = _first(element, "mattext")
    if node is None:
        return ""
    raw = node.text or ""
    fmt = "html" if "html" in (node.get("texttype") or "") or "<" in raw else "plain_text"
    return markup.to_text(raw, fmt)


def _number(value: str | None) -> int | None:
    return int(value) if value and re.fullmatch(r"\d{1,4}", value.strip()) else None


def read_assessment(root: Element, filename: str) -> Assessment:
    """An assessment's settings and the questions we take; the rest in ``skipped``."""
    if local(root.tag) != "questestinterop":
        raise PackageError(filename, "the root element is not <questestinterop>")
    node = _first(root, "assessment")
    if node is None:
        raise PackageError(f"{filename}: questestinterop", "no <assessment> element")
    meta = {}
    for child in _children(node, "qtimetadata"):
        meta.update(_metadata(child))
    limit = _first(node, "duration")  # not in the CC profile; Canvas writes a time limit here
    result = Assessment(
        ident=node.get("ident", ""),
        title=node.get("title", "").strip() or "Quiz",
        max_attempts=_number(meta.get("cc_maxattempts")),
        time_limit_minutes=_number(
            meta.get("qmd_timelimit") or (limit.text if limit is not None else None)
        ),
    )
    for item in _all(node, "item"):
        _read_item(item, result)
    return result


def _read_item(item: Element, result: Assessment) -> None:
    ident, title = item.get("ident", ""), item.get("title", "")
    meta = _metadata(item)
    kind = PROFILES.get(meta.get("cc_profile", "")) or CANVAS_TYPES.get(
        meta.get("question_type", "")
    )
    named = meta.get("cc_profile") or meta.get("question_type") or "no type given"
    if kind is None:
        result.skipped.append(Skipped(ident, title, f"question type {named} is not imported"))
        return
    presentation = _first(item, "presentation")
    lid = _first(presentation, "response_lid") if presentation is not None else None
    if lid is None:
        result.skipped.append(Skipped(ident, title, "the question has no choices (response_lid)"))
        return
    stem = _mattext(_first(presentation, "material"))
    labels = _all(lid, "response_label")
    idents = [label.get("ident", "") for label in labels]
    texts = [_mattext(label) for label in labels]
    right = _correct(item, lid.get("ident", ""), kind)
    positions = [idents.index(value) for value in right if value in idents]
    if markup.has_media(*(node.text or "" for node in _all(item, "mattext"))):
        result.skipped.append(Skipped(ident, title, markup.MEDIA_REASON))
        return
    if not stem or len(texts) < 2 or not positions or any(not text for text in texts):
        result.skipped.append(
            Skipped(ident, title, "the question lacks a stem, two choices or a right answer")
        )
        return
    if kind == "true_false":
        pairs = sorted(
            zip(texts, range(len(texts)), strict=True), key=lambda p: p[0].lower() != "true"
        )
        texts = [text for text, _ in pairs]
        positions = [new for new, (_, old) in enumerate(pairs) if old in positions]
    feedback = ""
    for node in _all(item, "itemfeedback"):
        if (
            node.get("ident", "") in ("general_fb", "general_incorrect_fb", "correct_fb")
            or not feedback
        ):
            feedback = feedback or _mattext(node)
    result.questions.append(
        {
            "stem": stem,
            "kind": kind,
            "choices": texts,
            "correct": sorted(positions) if kind == "multiple" else positions[0],
            "rationale": feedback,
            "tags": [],
        }
    )


def _correct(item: Element, response: str, kind: str) -> list[str]:
    """The choice idents a full score needs: ``varequal`` under a condition that sets the
    score to its maximum (not under ``not``)."""
    best: list[str] = []
    for condition in _all(item, "respcondition"):
        setvar = _first(condition, "setvar")
        if setvar is None or (setvar.text or "").strip() in ("", "0", "0.0"):
            continue
        var = _first(condition, "conditionvar")
        if var is None:
            continue
        negated = {id(n) for neg in _all(var, "not") for n in neg.iter()}
        found = [
            (node.text or "").strip()
            for node in _all(var, "varequal")
            if id(node) not in negated
            and (not response or node.get("respident", response) == response)
        ]
        if found:
            best = found if kind == "multiple" else found[:1]
            break
    return best


# Writing -----------------------------------------------------------------------------------


def _field(parent: Element, label: str, entry: str) -> None:
    holder = SubElement(parent, "qtimetadatafield")
    SubElement(holder, "fieldlabel").text = label
    SubElement(holder, "fieldentry").text = entry


def _material(parent: Element, text: str) -> None:
    SubElement(SubElement(parent, "material"), "mattext", texttype="text/plain").text = text


PROFILE_OF = {kind: profile for profile, kind in PROFILES.items()}


def write_assessment(
    ident: str, title: str, questions: list[dict], max_attempts: int | None
) -> bytes:
    """A CC QTI 1.2 assessment of choice questions (other kinds are the caller's to leave out)."""
    root = Element("questestinterop", xmlns=QTI_NS)
    assessment = SubElement(root, "assessment", ident=ident, title=title)
    meta = SubElement(assessment, "qtimetadata")
    _field(meta, "cc_profile", "cc.exam.v0p1")
    _field(meta, "qmd_assessmenttype", "Examination")
    _field(meta, "cc_maxattempts", str(max_attempts) if max_attempts else "unlimited")
    section = SubElement(assessment, "section", ident=f"{ident}_section")
    for number, question in enumerate(questions, start=1):
        kind = question.get("kind") or "single"
        item = SubElement(section, "item", ident=f"{ident}_q{number}", title=f"Question {number}")
        _field(
            SubElement(SubElement(item, "itemmetadata"), "qtimetadata"),
            "cc_profile",
            PROFILE_OF[kind],
        )
        presentation = SubElement(item, "presentation")
        _material(presentation, question["stem"])
        lid = SubElement(
            presentation,
            "response_lid",
            ident="response1",
            rcardinality="Multiple" if kind == "multiple" else "Single",
        )
        choice = SubElement(lid, "render_choice")
        for index, text in enumerate(question["choices"]):
            _material(SubElement(choice, "response_label", ident=f"c{index}"), text)
        correct = question["correct"]
        right = set(correct) if isinstance(correct, list) else {correct}
        processing = SubElement(item, "resprocessing")
        SubElement(
            SubElement(processing, "outcomes"),
            "decvar",
            maxvalue="100",
            minvalue="0",
            varname="SCORE",
            vartype="Decimal",
        )
        condition = SubElement(processing, "respcondition", attrib={"continue": "No"})
        var = SubElement(condition, "conditionvar")
        holder = SubElement(var, "and") if kind == "multiple" else var
        for index in range(len(question["choices"])):
            if index in right:
                SubElement(holder, "varequal", respident="response1").text = f"c{index}"
            elif kind == "multiple":
                SubElement(
                    SubElement(holder, "not"), "varequal", respident="response1"
                ).text = f"c{index}"
        SubElement(condition, "setvar", action="Set", varname="SCORE").text = "100"
        if question.get("rationale"):
            SubElement(
                condition, "displayfeedback", feedbacktype="Response", linkrefid="general_fb"
            )
            feedback = SubElement(item, "itemfeedback", ident="general_fb")
            _material(SubElement(feedback, "flow_mat"), question["rationale"])
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(
        root, encoding="utf-8", xml_declaration=False
    )
