"""``flask --app lms export ...`` writes the file and its manifest."""

import csv
import hashlib
import json

import openpyxl
import pytest

from lms.auth.models import Role
from lms.extensions import db
from lms.records.models import ExportRun
from tests import factories


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
        assert openpyxl.load_workbook(target, read_only=True).active.max_row == 2
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
