"""Export, import into a database without the course, export again: the same package (issue
17 item 1), for every demo course; on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from lms.courses.models import Lesson, Module, Quiz
from lms.courses.packages import importer, native
from lms.demo.seed import COURSE_FILES, course_data
from lms.extensions import db
from tests.courses.packages.helpers import clear_courses, files_of, manifest_of

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("filename", COURSE_FILES)
def test_every_demo_course_survives_export_import_export(app, filename):
    data = course_data(filename)
    importer.import_course(data, actor=None, now=NOW, source=filename)
    db.session.commit()
    first = native.export_course(data["code"], NOW)

    clear_courses()
    report = native.read_package(first, "course.zip")
    importer.import_course(report.data, actor=None, now=NOW, source="package")
    db.session.commit()
    second = native.export_course(data["code"], NOW + timedelta(days=1))

    one, two = manifest_of(first), manifest_of(second)
    assert one.pop("exported_at") != two.pop("exported_at")
    assert one == two
    assert {k: v for k, v in files_of(first).items() if k != "manifest.json"} == {
        k: v for k, v in files_of(second).items() if k != "manifest.json"
    }
    # What students see came through: every module in order, its lesson and its quiz.
    modules = db.session.scalars(select(Module).order_by(Module.position)).all()
    assert [m.code for m in modules] == [m["code"] for m in data["modules"]]
    lessons = {
        lesson.module_id: lesson.body_markdown for lesson in db.session.scalars(select(Lesson))
    }
    for module, given in zip(modules, data["modules"], strict=True):
        assert lessons.get(module.id) == given.get("lesson")
    assert db.session.query(Quiz).count() == len(data["modules"])
    # The package's questions are the TOML's, field by field (no loss on the way out).
    expected = sum(len(m.get("questions", [])) for m in data["modules"]) + len(data.get("bank", []))
    imported = sum(len(m["questions"]) for m in report.data["modules"]) + len(report.data["bank"])
    assert imported == expected
    for module, given in zip(report.data["modules"], data["modules"], strict=True):
        for got, want in zip(module["questions"], given.get("questions", []), strict=True):
            assert got["stem"] == want["stem"].strip()
            if want.get("kind") == "code_entry":  # a case and its keyed boxes
                assert got["case"].strip() == want["case"].strip()
                assert [(b["code_set"], b["order"], b["key"]) for b in got["boxes"]] == [
                    (b["code_set"], b["order"], b["key"]) for b in want["boxes"]
                ]
                continue
            assert got["choices"] == [c.strip() for c in want["choices"]]
            assert got["correct"] == want["correct"]
            assert got["tags"] == want.get("tags", [])
