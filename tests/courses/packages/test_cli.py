"""``export-course`` and ``import-course`` on the command line."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

from lms.courses.packages import importer
from lms.demo.seed import course_data
from lms.extensions import db
from tests.courses.packages.helpers import clear_courses, course_count

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def test_export_then_import_on_the_command_line(runner, tmp_path, app):
    importer.import_course(course_data("billing-reimbursement.toml"), actor=None, now=NOW)
    db.session.commit()
    package, cartridge = tmp_path / "bill.zip", tmp_path / "bill.imscc"
    result = runner.invoke(args=["export-course", "BILL", "-o", str(package)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(package) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert [m["code"] for m in manifest["modules"]] == ["BILL-1", "BILL-2", "BILL-3"]
    result = runner.invoke(args=["export-course", "BILL", "-o", str(cartridge), "--cartridge"])
    assert result.exit_code == 0, result.output
    assert "imsmanifest.xml" in zipfile.ZipFile(io.BytesIO(cartridge.read_bytes())).namelist()
    clear_courses()
    result = runner.invoke(args=["import-course", str(package)])
    assert result.exit_code == 0, result.output
    assert course_count() == 1
    result = runner.invoke(args=["import-course", str(cartridge), "--as", "BILL2", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "module BILL2-1" in result.output and course_count() == 1


def test_exporting_an_unknown_course_says_so(runner, tmp_path, app):
    result = runner.invoke(args=["export-course", "NOPE", "-o", str(tmp_path / "x.zip")])
    assert result.exit_code != 0
    assert "No course has the code NOPE." in result.output
    assert not (tmp_path / "x.zip").exists()


def test_a_failure_mid_way_leaves_nothing(runner, tmp_path, app, monkeypatch):
    importer.import_course(course_data("billing-reimbursement.toml"), actor=None, now=NOW)
    db.session.commit()
    package = tmp_path / "bill.zip"
    assert runner.invoke(args=["export-course", "BILL", "-o", str(package)]).exit_code == 0
    clear_courses()

    def fail(*args, **kwargs):  # after the course's rows are flushed
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(importer, "record_event", fail)
    result = runner.invoke(args=["import-course", str(package)])
    assert result.exit_code != 0
    assert course_count() == 0  # the command rolled back what it had flushed
    db.session.commit()
    assert course_count() == 0
