"""Storing, listing and reading a course's lesson media, and the checks a lesson's Markdown
must pass before it is published (alt text, files it names, captions)."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from sqlalchemy import select

from lms.auth.models import User
from lms.courses.catalogue import require_author
from lms.courses.media import sniff, storage
from lms.courses.media.models import MediaFile
from lms.courses.models import Course
from lms.errors import Conflict, InvalidInput, NotFound, Problem
from lms.extensions import db
from lms.ledger.audit import record_event

# ![alt](media/name.png "title") and [text](media/name.pdf)
_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*([^)\s]+)[^)]*\)")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(\s*(media/[^)\s]+)[^)]*\)")


def store_media(
    course: Course,
    filename: str,
    data: bytes,
    actor: User | None,
    now: datetime,
    *,
    captions_for: str | None = None,
) -> MediaFile:
    """Check a file by its content and keep it for the course's lessons as ``media/<name>``.
    A video needs its captions or transcript stored first (``captions_for`` names the video a
    captions file belongs to, or give the video's captions file name in the same way)."""
    if actor is not None:
        require_author(actor, "upload lesson media")
    found = sniff.sniff(data)
    if isinstance(found, str):
        raise InvalidInput(found, field="file")
    problem = sniff.name_problem(filename, found)
    if problem:
        raise InvalidInput(problem, field="file")
    limit = sniff.LIMITS[found.kind]
    if len(data) > limit:
        raise InvalidInput(
            f"A {found.kind} file is at most {limit // sniff.MB} MB; this one is "
            f"{len(data) / sniff.MB:.1f} MB.",
            field="file",
        )
    captions = None
    if found.kind == "video":
        captions = _captions_of(course, filename)
    existing = db.session.scalar(
        select(MediaFile.id).where(MediaFile.course_id == course.id, MediaFile.filename == filename)
    )
    if existing is not None:
        raise Conflict(f"The course has a file named {filename} already.", field="file")
    digest = hashlib.sha256(data).hexdigest()
    media = MediaFile(
        course_id=course.id,
        filename=filename,
        kind=found.kind,
        content_type=found.content_type,
        size=len(data),
        sha256=digest,
        captions_id=captions.id if captions else None,
        uploaded_by_id=actor.id if actor else None,
        uploaded_at=now,
    )
    db.session.add(media)
    db.session.flush()
    storage.put(data)  # every check passed: only now are bytes written
    record_event(
        "media.uploaded",
        actor=actor,
        now=now,
        target_type="course",
        target_id=course.id,
        details={"file": filename, "kind": found.kind, "size": len(data), "sha256": digest},
    )
    return media


def _captions_of(course: Course, video_name: str) -> MediaFile:
    """A video's captions: a captions file named like the video (``lecture.mp4`` ->
    ``lecture.vtt`` or ``lecture.txt``) uploaded first."""
    stem = video_name.rsplit(".", 1)[0]
    captions = db.session.scalar(
        select(MediaFile).where(
            MediaFile.course_id == course.id,
            MediaFile.kind == "captions",
            MediaFile.filename.in_([f"{stem}.vtt", f"{stem}.txt"]),
        )
    )
    if captions is None:
        raise InvalidInput(
            f"A video needs captions or a transcript (WCAG 1.2): upload {stem}.vtt (WebVTT) "
            f"or {stem}.txt first.",
            field="file",
        )
    return captions


def list_media(course: Course) -> list[MediaFile]:
    return list(
        db.session.scalars(
            select(MediaFile).where(MediaFile.course_id == course.id).order_by(MediaFile.filename)
        )
    )


def read_media(media: MediaFile) -> bytes:
    return storage.get(media.sha256)


def get_media(course_id: int, filename: str) -> MediaFile:
    media = db.session.scalar(
        select(MediaFile).where(MediaFile.course_id == course_id, MediaFile.filename == filename)
    )
    if media is None:
        raise NotFound("There is no such file.")
    return media


def markdown_media_problems(
    course: Course, markdown: str, field: str = "body", alt_text: bool = True
) -> list[Problem]:
    """What keeps a lesson from being published: an image without alt text (unless
    ``alt_text`` is false: the caller checks it), a ``media/`` file the course does not have,
    a video without its captions; each on ``field``."""
    names = {m.filename: m for m in list_media(course)}
    problems = []
    for alt, target in _IMAGE.findall(markdown):
        if alt_text and not alt.strip():
            problems.append(
                Problem(f"The image {target} needs alt text: ![what it shows]({target}).", field)
            )
    referenced = [t for _, t in _IMAGE.findall(markdown)] + _LINK.findall(markdown)
    for target in referenced:
        if target.startswith("media/"):
            name = target.removeprefix("media/")
            media = names.get(name)
            if media is None:
                problems.append(Problem(f"The course has no file {name}: upload it first.", field))
            elif media.kind == "video" and media.captions_id is None:
                problems.append(Problem(f"The video {name} has no captions.", field))
    return problems
