"""Every form, sent with a mistake, comes back as the form with the message beside the field
it is about, with the right status, and the database exactly as it was (issue 19, item 3).

One table of cases: who sends what, where; what the page must say and where. A bare error
page ("400 Bad request") fails the case, as does any change to any table."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import current_app
from sqlalchemy import select, text
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from lms.auth.models import Role
from lms.credentials import service as credentials
from lms.credentials.rules import EvidenceKind
from lms.enrollment import calendar, cohorts
from lms.enrollment import service as enrollment
from lms.extensions import db
from tests import factories
from tests.conftest import csrf_token, login, post_form
from tests.factories import NOW

TWENTY_MB = 20 * 1024 * 1024


@dataclass
class School:
    credential_id: int
    cohort_id: int
    student_id: int
    evidence_id: int
    place_id: int
    emails: dict[str, str]
    admin_id: int = 0


@pytest.fixture
def school(app) -> School:
    """A CPC cohort (two modules) with a student whose diploma waits for review and who has a
    calendar link, its join code on; an instructor and an admin."""
    factories.course("TERM", modules=2)
    credential = factories.credential("CPC", modules=["TERM-1", "TERM-2"])
    instructor = factories.user(Role.INSTRUCTOR, author=True)
    admin = factories.user(Role.ADMIN)
    student = factories.user(Role.STUDENT)
    newcomer = factories.user(Role.STUDENT)
    cohort = factories.cohort(instructor, credential, [student])
    cohorts.set_join(instructor, cohort, enabled=True, now=NOW)
    evidence = credentials.submit_evidence(
        student, EvidenceKind.HS_DIPLOMA_OR_GED, "Valley High School, 2019", NOW
    )
    calendar.issue_calendar_link(student, confirmed=False, now=NOW)
    # the newcomer was asked to join a cohort that was archived before they answered
    closed = factories.cohort(instructor, credential, name="Closed class")
    closed = enrollment.get_cohort_for(instructor, closed.id)
    with current_app.test_request_context():  # the request to accept is mailed
        place = enrollment.enroll_by_email(instructor, closed, newcomer.email, NOW)
    cohorts.set_archived(instructor, closed, True, NOW)
    db.session.commit()
    return School(
        credential.id,
        cohort.id,
        student.id,
        evidence.id,
        place.id,
        {
            "instructor": instructor.email,
            "admin": admin.email,
            "student": student.email,
            "newcomer": newcomer.email,
        },
        admin.id,
    )


@dataclass(frozen=True)
class Case:
    name: str
    who: str
    send: Callable  # (client, school) -> response
    status: int
    message: str  # shown beside the field


def post(url: Callable[[School], str], data: dict | Callable[[School], dict]) -> Callable:
    return lambda client, s: post_form(client, url(s), data(s) if callable(data) else data)


def upload(url: Callable[[School], str], field: str, extra: dict | None = None) -> Callable:
    """A multipart POST with a 20 MB file in ``field`` (and the CSRF token)."""

    def send(client, s):
        data = {"csrf_token": csrf_token(client), **(extra or {})}
        data[field] = FileStorage(io.BytesIO(b"x" * TWENTY_MB), "scan.pdf")
        # encoded in memory: the test client's own encoding spools it to a temporary file
        # that nobody closes when the app, rightly, never reads the body
        boundary, body = encode_multipart(data)
        return client.post(
            url(s), data=body, content_type=f"multipart/form-data; boundary={boundary}"
        )

    return send


def on_record(s):
    return f"/cohorts/{s.cohort_id}/students/{s.student_id}/overrides"


CASES = [
    Case(
        "an override with no reason",
        "instructor",
        post(on_record, {"key": "TERM-2", "decision": "met", "reason": " "}),
        400,
        "Give the reason",
    ),
    Case(
        "extra time with no reason",
        "instructor",
        post(
            lambda s: f"/cohorts/{s.cohort_id}/students/{s.student_id}/extra-time",
            {"multiplier": "1.5", "grant_reason": " "},
        ),
        400,
        "Give the reason for the extra time",
    ),
    Case(
        "extra time of a multiplier not on the list",
        "instructor",
        post(
            lambda s: f"/cohorts/{s.cohort_id}/students/{s.student_id}/extra-time",
            {"multiplier": "10", "grant_reason": "Documented disability"},
        ),
        400,
        "Choose the extra time",
    ),
    Case(
        "ending extra time with no reason",
        "instructor",
        post(
            lambda s: f"/cohorts/{s.cohort_id}/students/{s.student_id}/extra-time/end",
            {"end_reason": ""},
        ),
        400,
        "Give the reason for ending the extra time",
    ),
    Case(
        "a rejection with no reason, on the cohort page",
        "instructor",
        post(lambda s: f"/cohorts/{s.cohort_id}/evidence/{s.evidence_id}", {"reject": "Reject"}),
        400,
        "Give the student a reason for the rejection.",
    ),
    Case(
        "a rejection with no reason, on the certificates page",
        "instructor",
        post(
            lambda s: f"/cohorts/{s.cohort_id}/evidence/{s.evidence_id}",
            {"reject": "Reject", "back": "certificates"},
        ),
        400,
        "Give the student a reason for the rejection.",
    ),
    Case(
        "an emptied study-plan date",
        "instructor",
        post(lambda s: f"/cohorts/{s.cohort_id}/plan", {"module_code": "TERM-1", "due_on": ""}),
        400,
        "Give the new due date",
    ),
    Case(
        "accepting a place in a cohort archived meanwhile",
        "newcomer",
        post(lambda s: f"/dashboard/places/{s.place_id}", {"answer": "accept"}),
        409,
        "is archived and takes no new students",
    ),
    Case(
        "a booked exam date in the past",
        "student",
        post(lambda s: f"/dashboard/exam/{s.cohort_id}", {"booked_on": "2020-01-06"}),
        400,
        "in the past",
    ),
    Case(
        "a real exam result in the future",
        "instructor",
        post(
            lambda s: f"/cohorts/{s.cohort_id}/exam-results",
            lambda s: {"subject_id": s.student_id, "exam_date": "2099-01-05", "result": "passed"},
        ),
        400,
        "in the future",
    ),
    Case(
        "an audit search that ends before it starts",
        "admin",
        lambda client, s: client.get("/admin/audit?from=2026-11-30&to=2026-11-01"),
        400,
        "The range is backwards",
    ),
    Case(
        "a join code no cohort has",
        "newcomer",
        lambda client, s: post_form(client, "/join", {"code": "ZZZZ-ZZZZ"}, follow_redirects=True),
        404,
        "No cohort has this join code",
    ),
    Case(
        "a cohort that ends before it starts",
        "instructor",
        post(
            lambda s: f"/cohorts/{s.cohort_id}/edit",
            lambda s: {
                "name": "Day class",
                "credential_id": s.credential_id,
                "start_date": "2026-09-01",
                "exam_date": "2026-08-01",
            },
        ),
        400,
        "cannot be before the start date",
    ),
    Case(
        "an enrolment with no email",
        "instructor",
        post(lambda s: f"/cohorts/{s.cohort_id}/enrollments", {"email": "not an address"}),
        400,
        "email",
    ),
    Case(
        "a new user with an email another account has, in another case",
        "admin",
        post(
            lambda s: "/admin/users/new",
            lambda s: {
                "full_name": "Sam Two",
                "email": s.emails["student"].upper(),
                "role": "student",
            },
        ),
        409,
        "already exists",
    ),
    Case(
        "a user edited to have no name",
        "admin",
        post(
            lambda s: f"/admin/users/{s.student_id}/edit",
            lambda s: {"full_name": " ", "email": s.emails["student"], "role": "student"},
        ),
        400,
        "full name",
    ),
    Case(
        "the last admin giving themself another role",
        "admin",
        post(
            lambda s: f"/admin/users/{s.admin_id}/edit",
            lambda s: {"full_name": "Admin", "email": s.emails["admin"], "role": "instructor"},
        ),
        409,
        "last active admin",
    ),
    Case(
        "a profile with a time zone not in the list",
        "student",
        post(lambda s: "/account/profile", {"full_name": "Sam", "timezone": "Mars/Olympus"}),
        400,
        "Choose a time zone from the list",
    ),
    Case(
        "a calendar link reset not confirmed",
        "student",
        post(lambda s: "/calendar/link", {}),
        400,
        "Tick the box to confirm",
    ),
    Case(
        "an email choice not on the list",
        "student",
        post(lambda s: "/account/notifications", {"wanted": ["certificate", "spam"]}),
        400,
        "Choose among the notices listed.",
    ),
    Case(
        "a 20 MB evidence scan",
        "student",
        upload(lambda s: "/evidence", "document"),
        413,
        "too large",
    ),
    Case(
        "a 20 MB roster",
        "instructor",
        upload(lambda s: f"/cohorts/{s.cohort_id}/roster", "file"),
        413,
        "too large",
    ),
    Case(
        "a requirement added with no module (the requirement builder)",
        "admin",
        post(
            lambda s: f"/admin/credentials/{s.credential_id}",
            {"action": "add", "tree": "", "kind": "module_completed", "min_score": "70"},
        ),
        400,
        "Choose a module.",
    ),
    Case(
        "an announcement with no text",
        "instructor",
        post(lambda s: f"/cohorts/{s.cohort_id}/announcements", {"title": "Mock exam", "body": ""}),
        400,
        "Write what you want to tell the cohort.",
    ),
    Case(
        "a 20 MB question file",
        "instructor",
        upload(lambda s: "/banks/import", "file"),
        413,
        "too large",
    ),
    Case(
        "a 20 MB course package (issue 17)",
        "instructor",
        upload(lambda s: "/courses/import", "file"),
        413,
        "too large",
    ),
    Case(
        "a course file that is not a zip (issue 17)",
        "instructor",
        lambda client, s: client.post(
            "/courses/import",
            data={"csrf_token": csrf_token(client), "file": (io.BytesIO(b"hello"), "c.zip")},
            content_type="multipart/form-data",
        ),
        422,
        "not a zip file",
    ),
]


def database_state() -> str:
    """Every row of every table, hashed: equal before and after means nothing was written."""
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        key = ", ".join(column.name for column in table.primary_key.columns)
        for row in db.session.execute(select(table).order_by(text(key))):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def message_beside_a_field(page: str, message: str) -> bool:
    """The message is in an error paragraph that a form control names in aria-describedby."""
    for error_id, shown in re.findall(r'<p class="error" id="([^"]+)">(.*?)</p>', page, re.S):
        if message.lower() in shown.lower():
            return re.search(rf'aria-describedby="[^"]*\b{re.escape(error_id)}\b', page) is not None
    return False


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_refused_form_comes_back_with_its_message_beside_the_field(client, school, case):
    login(client, school.emails[case.who])
    client.get("/")  # anything a first page view records is recorded now
    db.session.expire_all()
    before = database_state()

    response = case.send(client, school)

    page = response.get_data(as_text=True)
    assert response.status_code == case.status, page[:2000]
    assert "<form" in page and "</html>" in page  # the page with its form, not a bare error
    assert message_beside_a_field(page, case.message), re.findall(r'class="error"[^>]*>.*?<', page)
    db.session.rollback()
    db.session.expire_all()
    assert database_state() == before
