"""Our own course package: a zip with ``manifest.json`` (format version, the course, its
modules in order with lesson Markdown files and quiz settings, the questions in Moodle XML,
and a SHA-256 of every file). A question Moodle XML cannot carry (a kind it lacks) travels as
JSON in the content data shape. Files are written in a fixed order with a fixed timestamp, so
two exports of the same course hold the same bytes but for ``exported_at``."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Mapping
from datetime import datetime

from lms.courses.interchange import moodle_xml
from lms.courses.packages import PackageError
from lms.courses.packages.archive import SafeZip, ZipLimits, clean_name
from lms.courses.packages.read_course import MOODLE_KINDS, course_content, media_store_available
from lms.courses.packages.report import ImportReport, Skipped
from lms.courses.rules.questions import DraftQuestion

FORMAT = "lms-course-package"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ZIP_TIME = (2000, 1, 1, 0, 0, 0)
MAX_MANIFEST = 2 * 1024 * 1024


def _slug(position: int, code: str) -> str:
    return f"{position:02d}-" + re.sub(r"[^A-Za-z0-9_-]+", "-", code)


def _draft(question: Mapping) -> DraftQuestion:
    correct = question["correct"]
    right = set(correct) if isinstance(correct, list) else {correct}
    return DraftQuestion(
        stem=question["stem"],
        kind=question.get("kind") or ("multiple" if isinstance(correct, list) else "single"),
        choices=tuple((text, index in right) for index, text in enumerate(question["choices"])),
        rationale=question.get("rationale", ""),
        content_area=question.get("content_area", ""),
        difficulty=question.get("difficulty", ""),
        code_set_year=question.get("code_set_year"),
        tags=tuple(question.get("tags", [])),
    )


def _carried(draft: DraftQuestion) -> bool:
    """Whether Moodle XML gives this question back unchanged (a tag such as "difficulty:easy"
    would come back as the difficulty, and too many right answers are not written at all)."""
    body, skipped = moodle_xml.export([draft], "check")
    if skipped:
        return False
    parsed = moodle_xml.parse(body.decode("utf-8"))
    return not parsed.problems and [item.draft for item in parsed.items] == [draft]


def _question_files(questions: list[dict], stem: str, files: dict[str, bytes]) -> dict | None:
    """Write a list of questions: the Moodle XML ones to ``stem``.xml, the rest to ``stem``.json,
    and the order (``xml``/``json`` per question) when both are used."""
    if not questions:
        return None
    xml_drafts, json_items, order = [], [], []
    for question in questions:
        draft = _draft(question) if question.get("kind", "single") in MOODLE_KINDS else None
        if draft is not None and _carried(draft):
            xml_drafts.append(draft)
            order.append("xml")
        else:
            json_items.append(question)
            order.append("json")
    entry: dict = {}
    if xml_drafts:
        body, _ = moodle_xml.export(xml_drafts, stem.rsplit("/", 1)[-1])
        files[f"{stem}.xml"] = body
        entry["moodle_xml"] = f"{stem}.xml"
    if json_items:
        files[f"{stem}.json"] = _json(json_items)
        entry["json"] = f"{stem}.json"
        if xml_drafts:
            entry["order"] = order
    return entry


def _json(value: object) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()


QUIZ_KEYS = (
    "quiz_title",
    "passing_score",
    "blueprint",
    "time_limit_minutes",
    "max_attempts",
    "review_policy",
    "preset",
)


def build(data: Mapping, media: Mapping[str, bytes], now: datetime) -> bytes:
    """The package (zip bytes) for a course's content data and its media files."""
    files: dict[str, bytes] = {}
    modules = []
    for position, module in enumerate(data["modules"], start=1):
        slug = _slug(position, module["code"])
        entry = {k: module[k] for k in ("code", "title", "estimated_minutes")}
        if module.get("lesson"):
            files[f"lessons/{slug}.md"] = module["lesson"].encode()
            entry["lesson"] = f"lessons/{slug}.md"
        entry["quiz"] = {key: module.get(key) for key in QUIZ_KEYS}
        entry["quiz"]["questions"] = _question_files(
            module.get("questions", []), f"questions/{slug}", files
        )
        modules.append(entry)
    bank = _question_files(list(data.get("bank", [])), "questions/bank", files)
    for name in sorted(media):
        files[f"media/{name}"] = media[name]
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": now.isoformat(timespec="seconds"),
        "course": {
            key: data.get(key)
            for key in ("code", "title", "topic_area", "description", "sequential")
        },
        "modules": modules,
        "bank": bank,
        "media": [f"media/{name}" for name in sorted(media)],
        "files": {name: hashlib.sha256(body).hexdigest() for name, body in sorted(files.items())},
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in [(MANIFEST, _json(manifest)), *sorted(files.items())]:
            archive.writestr(zipfile.ZipInfo(name, ZIP_TIME), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def export_course(course_code: str, now: datetime) -> bytes:
    """The package of a course as students see it (raises NotFound for an unknown code)."""
    data, media = course_content(course_code)
    return build(data, media, now)


# Reading ---------------------------------------------------------------------------------


def _get(mapping: Mapping, key: str, kind: type | tuple, where: str, optional: bool = False):
    value = mapping.get(key) if isinstance(mapping, Mapping) else None
    if value is None and optional:
        return None
    if not isinstance(value, kind):
        raise PackageError(f"{MANIFEST}: {where}", f"'{key}' is missing or of the wrong type")
    return value


def _questions(pkg: SafeZip, entry: Mapping | None, where: str, listed: set[str]) -> list[dict]:
    if not entry:
        return []
    xml_items: list[dict] = []
    json_items: list[dict] = []
    xml_name = entry.get("moodle_xml")
    if xml_name:
        _listed(xml_name, listed, where)
        parsed = moodle_xml.parse(pkg.read_text(xml_name, where))
        if parsed.problems:
            raise PackageError(xml_name, "; ".join(str(p) for p in parsed.problems[:5]))
        xml_items = [_content(item.draft) for item in parsed.items]
    json_name = entry.get("json")
    if json_name:
        _listed(json_name, listed, where)
        try:
            json_items = json.loads(pkg.read_text(json_name, where))
        except ValueError as error:
            raise PackageError(json_name, f"not valid JSON ({error})") from error
        if not isinstance(json_items, list) or not all(isinstance(q, dict) for q in json_items):
            raise PackageError(json_name, "expected a list of question objects")
    order = entry.get("order") or (["xml"] * len(xml_items) + ["json"] * len(json_items))
    if sorted(order) != sorted(["xml"] * len(xml_items) + ["json"] * len(json_items)):
        raise PackageError(f"{MANIFEST}: {where}", "'order' does not match the question files")
    xml_iter, json_iter = iter(xml_items), iter(json_items)
    return [next(xml_iter) if kind == "xml" else next(json_iter) for kind in order]


def _content(draft: DraftQuestion) -> dict:
    right = [index for index, (_, correct) in enumerate(draft.choices) if correct]
    question = {
        "stem": draft.stem,
        "kind": draft.kind,
        "choices": [text for text, _ in draft.choices],
        "correct": right if draft.kind == "multiple" else (right[0] if right else 0),
        "rationale": draft.rationale,
        "content_area": draft.content_area,
        "difficulty": draft.difficulty,
        "tags": list(draft.tags),
    }
    if draft.code_set_year:
        question["code_set_year"] = draft.code_set_year
    return question


def _listed(name: str, listed: set[str], where: str) -> None:
    if not isinstance(name, str) or clean_name(name) not in listed:
        raise PackageError(f"{MANIFEST}: {where}", f"{name!r} has no hash in 'files'")


def read_package(data: bytes, filename: str, limits: ZipLimits | None = None) -> ImportReport:
    """The content data in a package, every file's hash checked; raises PackageError."""
    pkg = SafeZip(data, filename, limits)
    if not pkg.has(MANIFEST):
        raise PackageError(filename, f"no {MANIFEST}: this is not a course package")
    raw = pkg.read(MANIFEST)
    if len(raw) > MAX_MANIFEST:
        raise PackageError(MANIFEST, "the manifest is too large")
    try:
        manifest = json.loads(raw)
    except ValueError as error:
        raise PackageError(MANIFEST, f"not valid JSON ({error})") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise PackageError(f"{MANIFEST}: format", f"expected {FORMAT!r}")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise PackageError(
            f"{MANIFEST}: format_version",
            f"format version {version!r} is unknown (this app reads version {FORMAT_VERSION})",
        )
    hashes = _get(manifest, "files", dict, "files")
    for name, digest in hashes.items():
        clean = clean_name(name)
        if not pkg.has(clean):
            raise PackageError(name, f"{MANIFEST}: files: the file is listed but not in the zip")
        if hashlib.sha256(pkg.read(clean)).hexdigest() != digest:
            raise PackageError(name, f"{MANIFEST}: files: the SHA-256 does not match the file")
    listed = {clean_name(name) for name in hashes}
    course = _get(manifest, "course", dict, "course")
    out: dict = {
        "code": _get(course, "code", str, "course"),
        "title": _get(course, "title", str, "course"),
        "topic_area": _get(course, "topic_area", str, "course"),
        "description": _get(course, "description", str, "course", optional=True) or "",
        "sequential": bool(course.get("sequential")),
        "modules": [],
    }
    for index, module in enumerate(_get(manifest, "modules", list, "modules"), start=1):
        where = f"modules[{index}]"
        entry: dict = {
            "code": _get(module, "code", str, where),
            "title": _get(module, "title", str, where),
            "estimated_minutes": _get(module, "estimated_minutes", int, where),
        }
        lesson = module.get("lesson")
        if lesson:
            _listed(lesson, listed, where)
            entry["lesson"] = pkg.read_text(clean_name(lesson), where)
        quiz = _get(module, "quiz", dict, where)
        for key in QUIZ_KEYS:
            if quiz.get(key) is not None:
                entry[key] = quiz[key]
        entry["questions"] = _questions(pkg, quiz.get("questions"), f"{where}.quiz", listed)
        out["modules"].append(entry)
    out["bank"] = _questions(pkg, manifest.get("bank"), "bank", listed)
    media, skipped = {}, []
    store = media_store_available()
    for name in manifest.get("media") or []:
        _listed(name, listed, "media")
        if store:
            media[clean_name(name).removeprefix("media/")] = pkg.read(clean_name(name))
        else:
            skipped.append(Skipped(name, "", "media files are not imported: no media store"))
    return ImportReport(source="course package", data=out, media=media, skipped=skipped)
