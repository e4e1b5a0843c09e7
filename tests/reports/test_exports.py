"""Exports in every format, their filters, manifests and the disclosure log."""

import csv
import hashlib
import io
import json
from datetime import UTC, datetime

import openpyxl
import pytest
from sqlalchemy import func, select

from lms.auth.models import Role
from lms.credentials import service as credentials
from lms.db import utcnow
from lms.extensions import db
from lms.ledger.models import AuditEvent
from lms.reports import export_runs
from lms.reports.exports import CERTIFICATE_COLUMNS, COMPLETION_COLUMNS
from lms.reports.models import ExportDisclosure, ExportRun
from tests import factories
from tests.conftest import login


@pytest.fixture
def school(app):
    factories.course("TERM", modules=2)
    factories.course("CODE", modules=1)
    credential = factories.credential("CPC", modules=["TERM-1", "TERM-2"])
    instructor = factories.user(Role.INSTRUCTOR)
    alice = factories.user(Role.STUDENT, name="Alice In-Cohort")
    bob = factories.user(Role.STUDENT, name="=cmd|' /C calc'!A0")
    carol = factories.user(Role.STUDENT, name="Carol Elsewhere")
    first = factories.cohort(instructor, credential, [alice, bob])
    second = factories.cohort(instructor, credential, [carol])
    factories.pass_module(alice, "TERM-1")
    factories.pass_module(alice, "TERM-2")  # ready: a certificate is issued too
    factories.pass_module(bob, "TERM-1", datetime(2026, 11, 5, 9, tzinfo=UTC))
    factories.pass_module(carol, "CODE-1")
    return {"first": first, "second": second, "alice": alice, "bob": bob, "carol": carol}


@pytest.fixture
def admin_client(client, school):
    admin = factories.user(Role.ADMIN, email="registrar@example.org")
    login(client, admin.email)
    return client


def download(client, **params):
    response = client.get("/admin/exports/download", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def manifest_of(client, response):
    run_id = response.headers["X-Export-Id"]
    assert response.headers["Link"].startswith(f"</admin/exports/{run_id}/manifest.json>")
    manifest = client.get(f"/admin/exports/{run_id}/manifest.json").get_json()
    assert manifest["sha256"] == hashlib.sha256(response.get_data()).hexdigest()
    assert manifest["byte_count"] == len(response.get_data())
    assert manifest["complete"] is True
    return manifest


def test_csv_of_one_cohort_parses_back_and_matches_its_manifest(admin_client, school):
    response = download(admin_client, format="csv", cohort=school["first"].id)
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == COMPLETION_COLUMNS
    emails = {row[3] for row in rows[1:]}
    assert emails == {school["alice"].email, school["bob"].email}
    manifest = manifest_of(admin_client, response)
    assert manifest["row_count"] == len(rows) - 1 == 4
    assert manifest["filters"] == {"cohort": school["first"].id}
    assert manifest["students_disclosed"] == 2
    # Formula injection is neutralised in CSV.
    assert [row[4] for row in rows[1:] if row[3] == school["bob"].email] == ["'=cmd|' /C calc'!A0"]


def test_xlsx_opens_with_openpyxl_with_the_same_rows(admin_client, school, tmp_path):
    response = download(admin_client, format="xlsx", cohort=school["first"].id)
    path = tmp_path / "export.xlsx"
    path.write_bytes(response.get_data())
    workbook = openpyxl.load_workbook(path, read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    workbook.close()  # a read-only workbook keeps its file open until closed
    assert list(rows[0]) == COMPLETION_COLUMNS
    manifest = manifest_of(admin_client, response)
    assert manifest["row_count"] == len(rows) - 1 == 4
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["score"] == 100
    assert record["module_code"] == "TERM-1"
    # A text cell is a string, never a formula.
    names = [row[4] for row in rows[1:] if row[3] == school["bob"].email]
    assert names == ["=cmd|' /C calc'!A0"]


def test_every_json_line_parses(admin_client, school):
    response = download(admin_client, format="jsonl")
    lines = response.get_data(as_text=True).splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == manifest_of(admin_client, response)["row_count"] == 5
    assert set(records[0]) == set(COMPLETION_COLUMNS)
    assert records[0]["score"] == 100.0 and isinstance(records[0]["entry_id"], int)


def test_xapi_statements_have_actor_verb_object_result(admin_client, school):
    response = download(admin_client, format="xapi", cohort=school["first"].id)
    statements = json.loads(response.get_data())
    assert len(statements) == manifest_of(admin_client, response)["row_count"] == 4
    for statement in statements:
        assert {"id", "actor", "verb", "object", "timestamp"} <= set(statement)
        assert statement["actor"]["account"]["homePage"] == "http://localhost"
        assert statement["actor"]["account"]["name"].isdigit()
        assert "mbox" not in statement["actor"]
        assert statement["verb"]["id"].startswith("http://adlnet.gov/expapi/verbs/")
        assert "result" in statement
    passed = statements[0]
    assert passed["verb"]["id"] == "http://adlnet.gov/expapi/verbs/passed"
    assert passed["object"]["id"] == "http://localhost/xapi/activities/module/TERM-1"
    assert passed["result"]["score"]["scaled"] == 1.0
    completed = [s for s in statements if "credential" in s["object"]["id"]]
    assert completed[0]["verb"]["id"] == "http://adlnet.gov/expapi/verbs/completed"
    # The same entry always has the same statement id, so an LRS can deduplicate.
    again = json.loads(download(admin_client, format="xapi", cohort=school["first"].id).data)
    assert [s["id"] for s in again] == [s["id"] for s in statements]


@pytest.mark.parametrize(
    ("params", "expected_emails", "count"),
    [
        ({"course": "CODE"}, {"carol"}, 1),
        ({"credential": "cpc"}, {"alice", "bob"}, 4),
        ({"kind": "certificate_issued"}, {"alice"}, 1),
        ({"kind": "module_completed,certificate_issued", "student": "alice"}, {"alice"}, 3),
        ({"from": "2026-11-05", "to": "2026-11-05"}, {"bob"}, 1),
        ({"to": "2026-11-04"}, {"alice", "carol"}, 4),
    ],
)
def test_filters(admin_client, school, params, expected_emails, count):
    params = dict(params)
    if params.get("student") == "alice":
        params["student"] = school["alice"].email
    rows = list(csv.reader(io.StringIO(download(admin_client, **params).get_data(as_text=True))))
    assert len(rows) - 1 == count
    assert {row[3] for row in rows[1:]} == {school[name].email for name in expected_emails}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"cohort": "999"}, "no cohort number 999"),
        ({"cohort": "abc"}, "no cohort number abc"),
        ({"credential": "NOPE"}, "no credential with the code NOPE"),
        ({"course": "NOPE"}, "no course with the code NOPE"),
        ({"student": "nobody@example.org"}, "no student nobody@example.org"),
        ({"from": "2026-11-30", "to": "2026-11-01"}, "backwards"),
        ({"from": "yesterday"}, "must look like 2026-11-30"),
        ({"kind": "module_failed"}, "not an entry kind"),
        ({"format": "pdf"}, "format must be one of"),
        ({"dataset": "certificates", "format": "xapi"}, "format must be one of"),
        ({"dataset": "certificates", "course": "TERM"}, "cannot be filtered by course"),
    ],
)
def test_bad_requests_export_nothing_and_log_nothing(admin_client, school, params, message):
    before = (
        db.session.scalar(select(func.count()).select_from(AuditEvent)),
        db.session.scalar(select(func.count()).select_from(ExportRun)),
    )
    response = admin_client.get(
        "/admin/exports/download", query_string=params, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]
    after = (
        db.session.scalar(select(func.count()).select_from(AuditEvent)),
        db.session.scalar(select(func.count()).select_from(ExportRun)),
    )
    assert before == after


def test_certificate_register_with_status_history(admin_client, school):
    response = download(admin_client, dataset="certificates", format="jsonl")
    records = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert manifest_of(admin_client, response)["row_count"] == len(records) == 1
    record = records[0]
    assert set(record) == set(CERTIFICATE_COLUMNS)
    assert record["student_email"] == school["alice"].email
    assert record["credential_code"] == "CPC"
    assert record["status"] == "issued"
    assert [h["status"] for h in record["status_history"]] == ["issued"]
    assert record["code"] == credentials.certificates_of([school["alice"].id])[0].code

    rows = list(
        csv.reader(io.StringIO(download(admin_client, dataset="certificates").data.decode()))
    )
    assert rows[0] == CERTIFICATE_COLUMNS
    assert rows[1][CERTIFICATE_COLUMNS.index("status_history")].startswith("issued 2026-11-02")
    empty = download(admin_client, dataset="certificates", cohort=school["second"].id)
    assert empty.get_data(as_text=True) == ",".join(CERTIFICATE_COLUMNS) + "\r\n"


def test_the_disclosure_log_names_each_student_exported(admin_client, school):
    response = download(admin_client, format="csv", cohort=school["first"].id)
    run_id = int(response.headers["X-Export-Id"])
    disclosed = set(
        db.session.scalars(
            select(ExportDisclosure.student_id).where(ExportDisclosure.export_id == run_id)
        )
    )
    assert disclosed == {school["alice"].id, school["bob"].id}
    event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert event.action == "export.completions"
    assert (event.target_type, event.target_id) == ("export", str(run_id))
    assert event.details["student_count"] == 2


def test_student_sees_who_exported_their_records(app, admin_client, school):
    download(admin_client, format="xlsx", cohort=school["first"].id)
    bob, carol = app.test_client(), app.test_client()
    login(bob, school["bob"].email)
    login(carol, school["carol"].email)
    page = bob.get("/my/records/disclosures").get_data(as_text=True)
    assert "completion records" in page and "xlsx" in page and "(admin)" in page
    assert "Nobody has exported your records." in carol.get("/my/records/disclosures").get_data(
        as_text=True
    )


def test_a_cut_off_download_is_detected(admin_client, school):
    response = download(admin_client, format="csv")
    manifest = manifest_of(admin_client, response)
    truncated = response.get_data()[:-10]
    assert hashlib.sha256(truncated).hexdigest() != manifest["sha256"]
    assert truncated.count(b"\r\n") - 1 != manifest["row_count"]


def test_an_export_the_server_never_finished_says_so(admin_client, school):
    admin = factories.user(Role.ADMIN)
    export = export_runs.start_export(
        admin, "completions", "csv", {}, channel="web", now=utcnow(), base_url="http://x"
    )
    db.session.commit()
    finished = []
    body = export.body(lambda *args: finished.append(args))
    next(body)  # the client reads the first chunk, then the connection drops
    body.close()
    assert finished == []
    manifest = export_runs.manifest(export_runs.get_export(export.run_id))
    assert manifest["complete"] is False and manifest["status"] == "started"
    assert manifest["row_count"] is None and manifest["sha256"] is None


def test_rows_added_during_an_export_are_not_in_it(admin_client, school):
    admin = factories.user(Role.ADMIN)
    export = export_runs.start_export(
        admin, "completions", "jsonl", {}, channel="web", now=utcnow(), base_url="http://x"
    )
    db.session.commit()
    factories.pass_module(school["carol"], "TERM-1")
    results = []
    data = b"".join(export.body(lambda *args: results.append(args)))
    assert len(data.splitlines()) == 5 == results[0][0]


def test_export_page_lists_recent_exports_with_manifests(admin_client, school):
    response = download(admin_client, format="csv")
    page = admin_client.get("/admin/exports").get_data(as_text=True)
    assert f"/admin/exports/{response.headers['X-Export-Id']}/manifest.json" in page


def test_manifest_of_an_unknown_export_is_404(admin_client):
    assert admin_client.get("/admin/exports/999/manifest.json").status_code == 404


def test_an_export_takes_a_fixed_number_of_queries(admin_client, school):
    from tests.conftest import count_queries

    with count_queries() as few:
        download(admin_client, format="csv", dataset="certificates")
        download(admin_client, format="jsonl")
    credential = credentials.get_credential_by_code("CPC")
    for _ in range(5):
        student = factories.user(Role.STUDENT)
        factories.cohort(factories.user(Role.INSTRUCTOR), credential, [student])
        factories.pass_module(student, "TERM-1")
        factories.pass_module(student, "TERM-2")  # a certificate for each, too
    with count_queries() as more:
        download(admin_client, format="csv", dataset="certificates")
        download(admin_client, format="jsonl")
    assert len(few) == len(more)
