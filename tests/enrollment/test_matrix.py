"""The cohort matrix: at-risk flags, filters, overrides, study plan, exams and the chart."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from lms.auth.models import Role
from lms.courses.attempts import sitting
from lms.credentials.models import Certificate
from lms.db import utcnow
from lms.enrollment import enrollments
from lms.enrollment import service as enrollment_service
from lms.enrollment.models import Cohort, Enrollment, PlannedDueDate
from lms.enrollment.progress import readmodel
from lms.extensions import db
from lms.ledger.models import LedgerEntry, LedgerKind
from lms.reports import export_sql, exports
from lms.reports.exports import COMPLETION_COLUMNS
from lms.reports.filters import RecordFilter
from tests import factories
from tests.conftest import login, post_form
from tests.enrollment.conftest import audit_actions, ledger_count, table_counts


def row_of(page: str, name: str) -> str:
    match = re.search(rf"<tr[^>]*>\s*<th scope=\"row\"><a [^>]*>{name}</a>.*?</tr>", page, re.S)
    assert match, f"no row for {name}"
    return match.group(0)


def names_in(page: str) -> list[str]:
    return re.findall(r'<th scope="row"><a [^>]*>([^<]+)</a>', page)


def set_dates(cohort_id: int, start: date, exam: date) -> None:
    cohort = db.session.get(Cohort, cohort_id)
    cohort.start_date, cohort.exam_date = start, exam
    db.session.commit()
    judge_again()


def judge_again() -> None:
    """After writing to the tables directly (past the services, which keep the cohort page's
    read model current), judge every row again, as ``flask progress rebuild`` does."""
    readmodel.rebuild(utcnow())
    db.session.commit()


def test_at_risk_flags_with_reasons_and_filters(client, school):
    credential, instructor = school
    today = utcnow().date()
    ready = factories.user(Role.STUDENT, name="Ada Ready")
    behind = factories.user(Role.STUDENT, name="Ben Behind")
    failing = factories.user(Role.STUDENT, name="Cy Failing")
    idle = factories.user(Role.STUDENT, name="Di Idle")
    cohort = factories.cohort(instructor, credential, [ready, behind, failing, idle])
    # The plan: TERM-1 due well before today, the rest later.
    set_dates(cohort.id, today - timedelta(days=30), today + timedelta(days=60))
    now = utcnow()
    for code in ("TERM-1", "TERM-2", "TERM-3"):
        factories.pass_module(ready, code, now)
    factories.pass_module(failing, "TERM-1", now)
    for _ in range(3):
        sitting.submit_quiz(
            failing, factories.module("TERM-2").id, factories.answers("TERM-2", 0), now
        )
    db.session.commit()
    factories.pass_module(idle, "TERM-1", now - timedelta(days=20))
    enrolments = db.session.scalars(select(Enrollment)).all()
    for e in enrolments:  # on the first day (a late joiner's plan would start later)
        e.enrolled_at = now - timedelta(days=30)
    db.session.commit()
    judge_again()

    login(client, instructor.email)
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "<strong>1 of 4</strong> students ready" in page and "<strong>3</strong> at risk" in page
    assert "Behind the study plan: 1 module overdue (TERM-1)" in row_of(page, "Ben Behind")
    assert "No activity since enrolment (30 days)" in row_of(page, "Ben Behind")
    assert "3 failed attempts on TERM-2" in row_of(page, "Cy Failing")
    assert "No activity for 20 days" in row_of(page, "Di Idle")
    assert 'class="risk-list"' not in row_of(page, "Ada Ready")

    def filtered(show: str) -> list[str]:
        return names_in(client.get(f"/cohorts/{cohort.id}?show={show}").get_data(as_text=True))

    assert filtered("at_risk") == ["Ben Behind", "Cy Failing", "Di Idle"]
    assert filtered("ready") == ["Ada Ready"]
    assert filtered("not_started") == ["Ben Behind"]
    assert filtered("nonsense") == ["Ada Ready", "Ben Behind", "Cy Failing", "Di Idle"]
    by_progress = names_in(
        client.get(f"/cohorts/{cohort.id}?sort=-progress").get_data(as_text=True)
    )
    assert by_progress[0] == "Ada Ready" and by_progress[-1] == "Ben Behind"

    # Staff actions on the record (an override) are not the student's activity.
    post_form(
        client,
        f"/cohorts/{cohort.id}/students/{idle.id}/overrides",
        {"key": "TERM-2", "decision": "met", "reason": "Prior learning"},
    )
    assert "No activity for 20 days" in row_of(
        client.get(f"/cohorts/{cohort.id}").get_data(as_text=True), "Di Idle"
    )

    # A cohort's own policy: flag inactivity only after 31 days.
    loaded = db.session.get(Cohort, cohort.id)
    loaded.inactivity_days = 31
    db.session.commit()
    judge_again()
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "No activity" not in page


def test_an_override_with_a_reason_counts_for_readiness_and_can_be_reversed(client, school):
    credential, instructor = school
    student = factories.user(Role.STUDENT, name="Sam Rivera")
    cohort = factories.cohort(instructor, credential, [student])
    factories.pass_module(student, "TERM-1")
    factories.pass_module(student, "TERM-2")
    login(client, instructor.email)
    url = f"/cohorts/{cohort.id}/students/{student.id}/overrides"
    entries = ledger_count()
    for data, status, message in [
        ({"key": "TERM-3", "decision": "met", "reason": "  "}, 400, "Give the reason"),
        ({"key": "TERM-9", "decision": "met", "reason": "x"}, 400, "Choose one of the cohort"),
        ({"key": "TERM-3", "decision": "revoke", "reason": "x"}, 409, "no override of TERM-3"),
        ({"key": "TERM-3", "decision": "maybe", "reason": "x"}, 400, "Choose a requirement"),
    ]:
        response = post_form(client, url, data)
        assert response.status_code == status, data
        assert message in response.get_data(as_text=True), data
    assert ledger_count() == entries and table_counts(Certificate) == (0,)

    reason = "Passed the equivalent module at Valley College (transcript on file)"
    response = post_form(client, url, {"key": "TERM-3", "decision": "met", "reason": reason})
    assert response.status_code == 302
    entry = db.session.scalar(
        select(LedgerEntry).where(LedgerEntry.kind == LedgerKind.OVERRIDE_GRANTED)
    )
    assert (entry.source_ref, entry.note, entry.actor_id) == ("TERM-3", reason, instructor.id)
    assert (entry.source, entry.met) == ("override", True)  # the verdict in its own column
    certificate = db.session.scalar(select(Certificate))
    assert certificate is not None and certificate.student_id == student.id
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "Met (override)" in row_of(page, "Sam Rivera") and "<strong>1 of 1</strong>" in page
    record = client.get(f"/cohorts/{cohort.id}/students/{student.id}").get_data(as_text=True)
    assert "Marked met" in record and reason in record and "Dana Whitfield" in record

    # Reversed by a new entry: the facts decide again; nothing is deleted.
    response = post_form(
        client,
        url,
        {"key": "TERM-3", "decision": "revoke", "reason": "Transcript was for another course"},
    )
    assert response.status_code == 302
    kinds = db.session.scalars(
        select(LedgerEntry.kind).where(LedgerEntry.source_ref == "TERM-3").order_by(LedgerEntry.id)
    ).all()
    assert kinds == [LedgerKind.OVERRIDE_GRANTED, LedgerKind.OVERRIDE_REVOKED]
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "override" not in row_of(page, "Sam Rivera") and "<strong>0 of 1</strong>" in page
    record = client.get(f"/cohorts/{cohort.id}/students/{student.id}").get_data(as_text=True)
    assert "Reversed" in record and "Marked met" in record

    # Marked not met, even though the student passed it.
    post_form(
        client, url, {"key": "TERM-1", "decision": "not_met", "reason": "Quiz taken with help"}
    )
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "Not met (override)" in row_of(page, "Sam Rivera")
    assert audit_actions().count("override.granted") == 2 and "override.revoked" in audit_actions()
    overrides = select(LedgerEntry.kind, LedgerEntry.source, LedgerEntry.met).where(
        LedgerEntry.kind.in_([LedgerKind.OVERRIDE_GRANTED, LedgerKind.OVERRIDE_REVOKED])
    )
    assert db.session.execute(overrides.order_by(LedgerEntry.id)).all() == [
        (LedgerKind.OVERRIDE_GRANTED, "override", True),
        (LedgerKind.OVERRIDE_REVOKED, "override", None),
        (LedgerKind.OVERRIDE_GRANTED, "override", False),
    ]
    # Exports spell the verdict into the source as they always did, written by Python or by
    # the database alike.
    python = exports.Measured(exports.completion_records())
    csv_text = b"".join(exports.render("csv", python, COMPLETION_COLUMNS, sheet="x", base_url=""))
    assert csv_text == b"".join(export_sql.LedgerText("csv", RecordFilter(), None))
    sources = [row["source"] for row in csv.DictReader(io.StringIO(csv_text.decode()))]
    assert [s for s in sources if s.startswith("override")] == [
        "override:met",
        "override",
        "override:not_met",
    ]


def test_the_instructor_moves_a_due_date_and_the_student_sees_this_week(client, school):
    credential, instructor = school
    student = factories.user(Role.STUDENT, name="Sam Rivera")
    cohort = factories.cohort(instructor, credential, [student])
    today = utcnow().date()
    set_dates(cohort.id, today - timedelta(days=3), today + timedelta(days=60))
    login(client, instructor.email)
    page = client.get(f"/cohorts/{cohort.id}/plan").get_data(as_text=True)
    assert page.count('name="due_on"') == 3
    # Equal estimated times: due dates a third of the 56-day window apart.
    start = today - timedelta(days=3)
    for days in (19, 38, 56):
        assert (start + timedelta(days=days)).strftime("%d %b %Y") in page

    client.get("/logout")
    login(client, student.email)
    assert "This week" not in client.get("/dashboard").get_data(as_text=True)
    client.get("/logout")
    login(client, instructor.email)
    for bad in [
        {"module_code": "TERM-2", "due_on": (start - timedelta(days=1)).isoformat()},
        {"module_code": "TERM-2", "due_on": (today + timedelta(days=61)).isoformat()},
        {"module_code": "NOPE-1", "due_on": today.isoformat()},
        {"module_code": "TERM-2", "due_on": "soon"},
    ]:
        response = post_form(client, f"/cohorts/{cohort.id}/plan", bad)
        assert response.status_code == 400, bad
    assert table_counts(PlannedDueDate) == (0,)
    new_due = today + timedelta(days=2)
    response = post_form(
        client,
        f"/cohorts/{cohort.id}/plan",
        {"module_code": "TERM-2", "due_on": new_due.isoformat()},
    )
    assert response.status_code == 302
    assert "moved" in client.get(f"/cohorts/{cohort.id}/plan").get_data(as_text=True)
    assert "study_plan.moved" in audit_actions()

    client.get("/logout")
    login(client, student.email)
    page = client.get("/dashboard").get_data(as_text=True)
    week = re.search(r'<ul class="this-week">(.*?)</ul>', page, re.S).group(1)
    assert "Module 2 of TERM" in week and f"due {new_due.strftime('%d %b %Y')}" in week
    assert "Module 1 of TERM" not in week


def test_a_late_joiner_is_not_overdue_nor_at_risk_on_the_day_they_join(client, school):
    credential, instructor = school
    on_time = factories.user(Role.STUDENT, name="Olu Ontime")
    cohort = factories.cohort(instructor, credential, [on_time])
    now = utcnow()
    today = now.date()
    start = today - timedelta(days=30)
    set_dates(cohort.id, start, today + timedelta(days=60))
    # The plan: TERM-1 due 10 days after the start (moved there by the instructor).
    db.session.add(
        PlannedDueDate(
            cohort_id=cohort.id,
            module_code="TERM-1",
            due_on=start + timedelta(days=10),
            moved_at=now,
            moved_by_id=instructor.id,
        )
    )
    enrolment = db.session.scalar(select(Enrollment).where(Enrollment.student_id == on_time.id))
    enrolment.enrolled_at = datetime.combine(start, datetime.min.time(), UTC)
    db.session.commit()
    late = factories.user(Role.STUDENT, name="Lee Latejoiner")
    loaded = enrollment_service.get_cohort_for(instructor, cohort.id)
    place = enrollment_service.enroll_by_email(instructor, loaded, late.email, now)
    enrollments.answer_place(late, place.id, accept=True, now=now)  # joins today
    db.session.commit()

    login(client, instructor.email)
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "<strong>1</strong> at risk" in page
    assert "Behind the study plan: 1 module overdue (TERM-1)" in row_of(page, "Olu Ontime")
    assert 'class="risk-list"' not in row_of(page, "Lee Latejoiner")
    at_risk = client.get(f"/cohorts/{cohort.id}?show=at_risk").get_data(as_text=True)
    assert names_in(at_risk) == ["Olu Ontime"]
    listed = client.get("/cohorts").get_data(as_text=True)
    row = re.search(re.escape(cohort.name) + r"</a>.*?</tr>", listed, re.S)
    assert f'href="/cohorts/{cohort.id}?show=at_risk">1</a>' in row.group(0)
    client.get("/logout")

    # The late joiner's own plan: 30 days late, every due date 30 days later (never past the
    # exam date); the on-time student keeps the cohort's and is overdue.
    login(client, late.email)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "overdue" not in page and "This week" not in page
    modules = page.split("<h3>Required modules</h3>")[1].split("</table>")[0]
    due_cells = [re.findall(r"<td>(.*?)</td>", row)[-1] for row in modules.split("<tr>")[2:]]
    assert len(due_cells) == 3
    assert due_cells[0] == (today + timedelta(days=10)).strftime("%d %b %Y")
    assert due_cells[2] == (today + timedelta(days=60)).strftime("%d %b %Y")  # the exam date
    client.get("/logout")
    login(client, on_time.email)
    page = client.get("/dashboard").get_data(as_text=True)
    week = re.search(r'<ul class="this-week">(.*?)</ul>', page, re.S).group(1)
    overdue_since = (start + timedelta(days=10)).strftime("%d %b %Y")
    assert "Module 1 of TERM" in week and f"overdue since {overdue_since}" in week


def test_exam_bookings_show_next_to_readiness_with_a_warning(client, school):
    credential, instructor = school
    booked = factories.user(Role.STUDENT, name="Bo Booked")
    ready = factories.user(Role.STUDENT, name="Ada Ready")
    cohort = factories.cohort(instructor, credential, [booked, ready])
    for code in ("TERM-1", "TERM-2", "TERM-3"):
        factories.pass_module(ready, code)
    exam_day = utcnow().date() + timedelta(days=20)
    login(client, booked.email)
    url = f"/dashboard/exam/{cohort.id}"
    past = (utcnow().date() - timedelta(days=1)).isoformat()
    response = post_form(client, url, {"booked_on": past})
    assert response.status_code == 400 and "cannot be in the past" in response.get_data(
        as_text=True
    )
    other = factories.cohort(instructor, credential)
    assert (
        post_form(
            client, f"/dashboard/exam/{other.id}", {"booked_on": exam_day.isoformat()}
        ).status_code
        == 404
    )
    assert (
        db.session.scalar(
            select(Enrollment.exam_booked_on).where(Enrollment.student_id == booked.id)
        )
        is None
    )
    response = post_form(client, url, {"booked_on": exam_day.isoformat(), "employer_paid": "y"})
    assert response.status_code == 302
    assert "your employer pays the fee" in client.get("/dashboard").get_data(as_text=True)
    client.get("/logout")
    login(client, ready.email)
    post_form(client, url, {"booked_on": (exam_day + timedelta(days=5)).isoformat()})
    client.get("/logout")

    login(client, instructor.email)
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "Booked but not ready" in row_of(page, "Bo Booked") and "employer pays" in row_of(
        page, "Bo Booked"
    )
    assert "Booked but not ready" not in row_of(page, "Ada Ready")
    upcoming = page[page.index("Upcoming exams") :]
    assert upcoming.index("Bo Booked") < upcoming.index("Ada Ready")
    assert "Not ready: 0% done" in upcoming
    assert names_in(
        client.get(f"/cohorts/{cohort.id}?show=booked_not_ready").get_data(as_text=True)
    ) == ["Bo Booked"]
    assert "exam.booked" in audit_actions()


def test_the_progress_chart_is_an_svg_drawn_from_ledger_dates(client, school):
    credential, instructor = school
    student = factories.user(Role.STUDENT)
    cohort = factories.cohort(instructor, credential, [student])
    start = utcnow().date() - timedelta(days=28)
    set_dates(cohort.id, start, utcnow().date() + timedelta(days=30))
    for code in ("TERM-1", "TERM-2", "TERM-3"):
        factories.pass_module(
            student, code, datetime.combine(start + timedelta(days=10), datetime.min.time(), UTC)
        )
    login(client, instructor.email)
    assert f"/cohorts/{cohort.id}/progress.svg" in client.get(f"/cohorts/{cohort.id}").get_data(
        as_text=True
    )
    response = client.get(f"/cohorts/{cohort.id}/progress.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert svg.startswith("<svg") and "<script" not in svg
    assert "100% of students ready, median completion 100%" in svg
    points = re.search(r'chart-ready"[^>]* points="([^"]+)"', svg).group(1).split()
    assert points[0].endswith(",224.0") and points[-1].endswith(",16.0")  # from 0% up to 100%


def test_the_cohort_list_shows_readiness_and_risk_at_a_glance(client, school):
    credential, instructor = school
    ready = factories.user(Role.STUDENT)
    waiting = factories.user(Role.STUDENT)
    cohort = factories.cohort(instructor, credential, [ready, waiting], name="Glance")
    for code in ("TERM-1", "TERM-2", "TERM-3"):
        factories.pass_module(ready, code)
    login(client, instructor.email)
    page = client.get("/cohorts").get_data(as_text=True)
    row = re.search(r"Glance</a>.*?</tr>", page, re.S).group(0)
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert cells[3] == "1 of 2"
    assert f'href="/cohorts/{cohort.id}?show=at_risk">1</a>' in cells[4]


def test_an_evidence_requirement_can_be_overridden_too(client, school):
    _, instructor = school
    credential = factories.credential(
        "CCA",
        tree={
            "type": "all_of",
            "children": [
                {"type": "module_completed", "module": "TERM-1"},
                {"type": "evidence", "kind": "hs_diploma_or_ged"},
            ],
        },
    )
    student = factories.user(Role.STUDENT, name="Eve Evidence")
    cohort = factories.cohort(instructor, credential, [student])
    factories.pass_module(student, "TERM-1")
    login(client, instructor.email)
    record = client.get(f"/cohorts/{cohort.id}/students/{student.id}").get_data(as_text=True)
    assert 'value="evidence:hs_diploma_or_ged"' in record
    response = post_form(
        client,
        f"/cohorts/{cohort.id}/students/{student.id}/overrides",
        {
            "key": "evidence:hs_diploma_or_ged",
            "decision": "met",
            "reason": "Diploma seen at enrolment interview",
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(select(Certificate.student_id)) == student.id
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "Met (override)" in row_of(page, "Eve Evidence")
    client.get("/logout")
    login(client, student.email)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "readiness certificate was issued" in dashboard
