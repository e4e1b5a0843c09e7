"""IMS Common Cartridge 1.3 out: each module an item of the organisation holding its lesson
(an HTML page) and its quiz (a QTI 1.2 assessment of its choice questions). What CC has no
place for is left out and named: quizzes drawn from the bank by a blueprint, question kinds
QTI's choice items cannot carry, the pass mark, time limits and our question metadata."""

from __future__ import annotations

import html
import io
import re
import zipfile
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 - writing only

from lms.courses.markdown import render_markdown
from lms.courses.packages import qti
from lms.courses.packages.native import ZIP_TIME
from lms.courses.packages.read_course import MOODLE_KINDS, course_content, never_published

CP_NS = "http://www.imsglobal.org/xsd/imsccv1p3/imscp_v1p1"
LOM_NS = "http://ltsc.ieee.org/xsd/imsccv1p3/LOM/manifest"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = (
    f"{CP_NS} http://www.imsglobal.org/profile/cc/ccv1p3/ccv1p3_imscp_v1p2_v1p0.xsd "
    f"{LOM_NS} http://www.imsglobal.org/profile/cc/ccv1p3/LOM/ccv1p3_lommanifest_v1p0.xsd"
)
ASSESSMENT = "imsqti_xmlv1p2/imscc_xmlv1p1/assessment"


def _ident(*parts: object) -> str:
    return "I_" + "_".join(re.sub(r"[^A-Za-z0-9]+", "-", str(part)) for part in parts)


def _page(title: str, markdown: str) -> bytes:
    """The lesson as an HTML page (its ``# Title`` is the page's one h1)."""
    rendered = str(render_markdown(markdown, heading_offset=0))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n{rendered}\n</body>\n</html>\n"
    ).encode()


def build(data: dict, media: dict[str, bytes]) -> tuple[bytes, list[str]]:
    """The cartridge for a course's content data, and what it leaves out."""
    left_out: list[str] = []
    files: dict[str, bytes] = {}
    manifest = Element(
        "manifest",
        {
            "identifier": _ident("M", data["code"]),
            "xmlns": CP_NS,
            "xmlns:lomimscc": LOM_NS,
            "xmlns:xsi": XSI_NS,
            "xsi:schemaLocation": SCHEMA_LOCATION,
        },
    )
    metadata = SubElement(manifest, "metadata")
    SubElement(metadata, "schema").text = "IMS Common Cartridge"
    SubElement(metadata, "schemaversion").text = "1.3.0"
    general = SubElement(SubElement(metadata, "lomimscc:lom"), "lomimscc:general")
    SubElement(SubElement(general, "lomimscc:title"), "lomimscc:string").text = data["title"]
    if data.get("description"):
        description = SubElement(general, "lomimscc:description")
        SubElement(description, "lomimscc:string").text = data["description"]
    organization = SubElement(
        SubElement(manifest, "organizations"),
        "organization",
        identifier=_ident("O", data["code"]),
        structure="rooted-hierarchy",
    )
    root = SubElement(organization, "item", identifier=_ident("root"))
    resources = SubElement(manifest, "resources")
    for position, module in enumerate(data["modules"], start=1):
        item = SubElement(root, "item", identifier=_ident("m", position))
        SubElement(item, "title").text = module["title"]
        if module.get("lesson"):
            href = f"lessons/{position:02d}.html"
            files[href] = _page(module["title"], module["lesson"])
            ref = _ident("R", "lesson", position)
            leaf = SubElement(item, "item", identifier=_ident("m", position, "lesson"))
            leaf.set("identifierref", ref)
            SubElement(leaf, "title").text = module["title"]
            resource = SubElement(resources, "resource", identifier=ref, type="webcontent")
            resource.set("href", href)
            SubElement(resource, "file", href=href)
        if module.get("blueprint"):
            left_out.append(
                f"module {module['code']}: its quiz draws questions from the bank by a blueprint, "
                "which Common Cartridge cannot express"
            )
        questions = []
        for number, question in enumerate(module.get("questions", []), start=1):
            if question.get("kind", "single") in MOODLE_KINDS:
                questions.append(question)
            else:
                left_out.append(
                    f"module {module['code']} question {number}: kind {question['kind']}"
                )
        if questions:
            ref = _ident("R", "quiz", position)
            href = f"{ref}/assessment.xml"
            title = module.get("quiz_title") or f"Quiz: {module['title']}"
            files[href] = qti.write_assessment(ref, title, questions, module.get("max_attempts"))
            leaf = SubElement(item, "item", identifier=_ident("m", position, "quiz"))
            leaf.set("identifierref", ref)
            SubElement(leaf, "title").text = title
            resource = SubElement(resources, "resource", identifier=ref, type=ASSESSMENT)
            SubElement(resource, "file", href=href)
    if data.get("bank"):
        left_out.append(f"{len(data['bank'])} question(s) of the bank used by no quiz")
    for name in sorted(media):
        href = f"media/{name}"
        files[href] = media[name]
        resource = SubElement(resources, "resource", identifier=_ident("R", "media", name))
        resource.set("type", "webcontent")
        resource.set("href", href)
        SubElement(resource, "file", href=href)
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(manifest, encoding="utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in [("imsmanifest.xml", body), *sorted(files.items())]:
            archive.writestr(zipfile.ZipInfo(name, ZIP_TIME), content, zipfile.ZIP_DEFLATED)
    return out.getvalue(), left_out


def export_course(code: str, *, include_drafts: bool = False) -> tuple[bytes, list[str]]:
    """The Common Cartridge 1.3 of a course (NotFound for an unknown code) and what it
    leaves out: a module never published is a draft, and Common Cartridge has no standard
    way to say so, so another LMS may show it to its students once imported; it stays here
    unless ``include_drafts`` says otherwise."""
    data, media = course_content(code)
    left_out: list[str] = []
    if not include_drafts:
        drafts = never_published(code)
        kept = []
        for module in data["modules"]:
            if module["code"] in drafts:
                left_out.append(
                    f"module {module['code']} “{module['title']}”: never published (a draft)"
                )
            else:
                kept.append(module)
        data = {**data, "modules": kept}
    body, not_exported = build(data, media)
    return body, left_out + not_exported
