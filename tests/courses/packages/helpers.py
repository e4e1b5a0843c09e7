"""Helpers for the package tests: clear the course tables (on SQLite and PostgreSQL alike),
read a package's files."""

from __future__ import annotations

import io
import json
import zipfile

from lms.courses.authoring.models import ModuleDraft, ModuleVersion
from lms.courses.models import (
    Choice,
    Course,
    Lesson,
    Module,
    Question,
    QuestionBank,
    Quiz,
    QuizItem,
)
from lms.extensions import db

COURSE_TABLES = [
    QuizItem, Choice, Quiz, Question, Lesson, ModuleDraft, ModuleVersion, Module, QuestionBank,
    Course,
]  # fmt: skip


def clear_courses() -> None:
    """Delete every course and what hangs off it: the database holds no course after."""
    for model in COURSE_TABLES:
        db.session.execute(model.__table__.delete())
    db.session.commit()


def course_count() -> int:
    return db.session.query(Course).count()


def files_of(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def manifest_of(package: bytes) -> dict:
    return json.loads(files_of(package)["manifest.json"])


def make_zip(files: dict[str, bytes | str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return out.getvalue()
