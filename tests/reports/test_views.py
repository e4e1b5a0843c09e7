"""The admin's CSV export of the completion ledger."""

import csv
import io

import pytest
from sqlalchemy import select

from lms.auth.models import Role
from lms.extensions import db
from lms.ledger.models import AuditEvent
from lms.reports.exports import COMPLETION_COLUMNS, neutralise
from tests import factories
from tests.conftest import login


@pytest.fixture
def two_cohorts(app):
    factories.course("TERM", modules=2)
    credential = factories.credential("CPC", modules=["TERM-1", "TERM-2"])
    instructor = factories.user(Role.INSTRUCTOR)
    alice = factories.user(Role.STUDENT, name="Alice In-Cohort")
    bob = factories.user(Role.STUDENT, name='=HYPERLINK("http://evil")')
    first = factories.cohort(instructor, credential, [alice])
    second = factories.cohort(instructor, credential, [bob])
    factories.pass_module(alice, "TERM-1")
    factories.pass_module(alice, "TERM-2")  # ready: a certificate is issued too
    factories.pass_module(bob, "TERM-1")
    return first, second, alice, bob


def rows_of(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_admin_downloads_the_whole_ledger(client, two_cohorts):
    admin = factories.user(Role.ADMIN)
    login(client, admin.email)
    page = client.get("/admin/exports").get_data(as_text=True)
    assert "Download" in page and "Completion ledger" in page
    response = client.get("/admin/exports/completions.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = rows_of(response)
    assert rows[0] == COMPLETION_COLUMNS
    assert [row[5] for row in rows[1:]] == [
        "module_completed",
        "module_completed",
        "certificate_issued",
        "module_completed",
    ]
    assert response.get_data(as_text=True).count("\r\n") == 5  # RFC 4180 line ends


def test_filter_by_cohort_keeps_only_its_students(client, two_cohorts):
    first, second, alice, bob = two_cohorts
    admin = factories.user(Role.ADMIN)
    login(client, admin.email)
    rows = rows_of(client.get(f"/admin/exports/completions.csv?cohort_id={first.id}"))
    assert {row[3] for row in rows[1:]} == {alice.email}
    first_row = dict(zip(rows[0], rows[1], strict=True))
    assert first_row["module_code"] == "TERM-1"
    assert first_row["course_code"] == "TERM"
    assert first_row["score"] == "100.00"
    assert first_row["source"] == "quiz"
    assert first_row["actor_email"] == alice.email
    assert first_row["recorded_at"] == "2026-11-02T15:30:00+00:00"

    rows = rows_of(client.get(f"/admin/exports/completions.csv?cohort_id={second.id}"))
    assert {row[3] for row in rows[1:]} == {bob.email}


def test_formula_cells_are_neutralised(client, two_cohorts):
    *_, bob = two_cohorts
    admin = factories.user(Role.ADMIN)
    login(client, admin.email)
    rows = rows_of(client.get("/admin/exports/completions.csv"))
    names = [row[4] for row in rows[1:] if row[3] == bob.email]
    assert names == ['\'=HYPERLINK("http://evil")']


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM", "'@SUM"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\n=1+1", "'\n=1+1"),
        (" =1+1", "' =1+1"),
        ("\u00a0+1", "'\u00a0+1"),
        ("\u3000\u2003 @SUM(A1)", "'\u3000\u2003 @SUM(A1)"),
        ("\ufeff-1", "'\ufeff-1"),
        ("  plain", "  plain"),
        (" ", " "),
        ("plain", "plain"),
        (12.5, 12.5),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_every_export_is_audited(client, two_cohorts):
    first, *_ = two_cohorts
    admin = factories.user(Role.ADMIN)
    login(client, admin.email)
    client.get(f"/admin/exports/completions.csv?cohort_id={first.id}")
    event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert (event.action, event.actor_id) == ("export.completions", admin.id)
    assert event.details == {
        "format": "csv",
        "filters": {"cohort": first.id},
        "channel": "web",
        "student_count": 1,
    }


def test_bad_filters_are_refused(client, two_cohorts):
    admin = factories.user(Role.ADMIN)
    login(client, admin.email)
    before = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()))
    assert client.get("/admin/exports/completions.csv?cohort_id=abc").status_code == 400
    assert client.get("/admin/exports/completions.csv?cohort_id=99999").status_code == 400
    after = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()))
    assert before == after  # a refused export discloses nothing and logs nothing


def test_instructor_and_student_cannot_export(app, two_cohorts):
    *_, alice, _ = two_cohorts
    for person in (factories.user(Role.INSTRUCTOR), alice):
        client = app.test_client()
        login(client, person.email)
        assert client.get("/admin/exports/completions.csv").status_code == 403
