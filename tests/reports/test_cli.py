"""``flask --app lms export ...`` writes the file and its manifest."""

import csv
import hashlib
import json

import openpyxl
import pytest

from lms.auth.models import Role, User
from lms.extensions import db
from lms.reports.models import ExportDisclosure, ExportRun
from tests import factories
from tests.conftest import login


@pytest.fixture
def ledger(app):
    factories.course("TERM", modules=2)
    credential = factories.credential("CPC", modules=["TERM-1", "TERM-2"])
    teacher = factories.user(Role.INSTRUCTOR)
    student = factories.user(Role.STUDENT)
    other = factories.user(Role.STUDENT)
    cohort = factories.cohort(teacher, credential, [student])
    factories.cohort(teacher, credential, [other])
    factories.pass_module(student, "TERM-1")
    factories.pass_module(other, "TERM-1")
    return cohort


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl", "xapi"])
def test_export_completions_writes_file_and_manifest(runner, ledger, tmp_path, fmt):
    target = tmp_path / f"out.{fmt}"
    result = runner.invoke(
        args=["export", "completions", "--format", fmt, "--cohort", str(ledger.id), "-o", target]
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / f"out.{fmt}.manifest.json").read_text())
    data = target.read_bytes()
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["byte_count"] == len(data)
    assert manifest["filename"] == target.name
    assert manifest["channel"] == "cli" and manifest["exported_by"] is None
    assert manifest["row_count"] == 1
    if fmt == "csv":
        assert len(list(csv.reader(data.decode().splitlines()))) == 2
    elif fmt == "xlsx":
        workbook = openpyxl.load_workbook(target, read_only=True)
        assert workbook.active.max_row == 2
        workbook.close()  # a read-only workbook keeps its file open until closed
    elif fmt == "jsonl":
        assert len([json.loads(line) for line in data.decode().splitlines()]) == 1
    else:
        assert len(json.loads(data)) == 1
    assert f"Wrote 1 rows to {target}" in result.output
    assert not (tmp_path / f"out.{fmt}.partial").exists()


def test_bad_filter_fails_and_writes_nothing(runner, ledger, tmp_path):
    target = tmp_path / "out.csv"
    result = runner.invoke(
        args=["export", "completions", "--from", "2026-12-01", "--to", "2026-01-01", "-o", target]
    )
    assert result.exit_code == 1
    assert "backwards" in result.output
    assert not target.exists()
    assert db.session.scalar(db.select(ExportRun.id)) is None


def test_export_certificates(runner, ledger, tmp_path):
    target = tmp_path / "register.csv"
    result = runner.invoke(args=["export", "certificates", "-o", target])
    assert result.exit_code == 0, result.output
    assert target.read_text().startswith("certificate_id,code,")


def test_a_scheduled_export_shows_in_the_students_disclosure_log(app, runner, ledger, tmp_path):
    result = runner.invoke(
        args=["export", "completions", "--cohort", str(ledger.id), "-o", tmp_path / "x.csv"]
    )
    assert result.exit_code == 0
    run = db.session.scalar(db.select(ExportRun).order_by(ExportRun.id.desc()))
    assert run.student_count == 1
    student_id = db.session.scalar(
        db.select(ExportDisclosure.student_id).where(ExportDisclosure.export_id == run.id)
    )
    client = app.test_client()
    login(client, db.session.get(User, student_id).email)
    page = client.get("/my/records/disclosures").get_data(as_text=True)
    assert "a scheduled export" in page and "<td>cli</td>" in page
