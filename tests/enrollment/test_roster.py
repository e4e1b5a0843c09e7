"""Roster import: preview every problem, then enrol all or nobody."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from lms.auth.models import Role, User
from lms.enrollment.models import Enrollment, EnrollmentStatus, Invitation
from lms.extensions import db
from lms.mail import outbox
from tests import factories
from tests.conftest import login, post_form
from tests.enrollment.conftest import audit_actions, table_counts

TOKEN = re.compile(r'name="token" type="hidden" value="([^"]+)"')


def roster_csv(rows: list[tuple[str, str, str, str]]) -> bytes:
    """A roster as Excel saves it: BOM, semicolons, CRLF, two empty rows at the end."""
    lines = ["Email;First Name;Last Name;Student ID"]
    lines += [";".join(f'"{cell}"' if " " in cell else cell for cell in row) for row in rows]
    lines += [";;;", ";;;"]
    return "\ufeff".encode() + "\r\n".join(lines).encode() + b"\r\n"


def upload(client, cohort_id: int, data: bytes, name: str = "roster.csv"):
    return post_form(
        client,
        f"/cohorts/{cohort_id}/roster",
        {"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def forty_rows() -> list[tuple[str, str, str, str]]:
    return [
        (f"student{i:02d}@school.edu", f"First{i}", f"Last {i}", f"S{i:03d}") for i in range(40)
    ]


def test_forty_rows_with_three_bad_ones_then_fixed_and_imported(client, school):
    credential, instructor = school
    cohort = factories.cohort(instructor, credential, name="CPC day class")
    existing = factories.user(Role.STUDENT, email="already@school.edu", name="Al Ready")
    login(client, instructor.email)
    rows = forty_rows()
    rows[4] = ("", "No", "Email", "S004")
    rows[9] = ("student09-at-school.edu", "Bad", "Address", "S009")
    rows[20] = ("student03@school.edu", "Twice", "Listed", "S020")
    response = upload(client, cohort.id, roster_csv(rows))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "3 problems: nobody was enrolled" in page
    problems = re.findall(
        r'<tr class="problem"><td>(\d+)</td><td>([^<]+)</td><td>([^<]+)</td>', page
    )
    assert problems == [
        ("6", "email", "missing email"),
        ("11", "email", "malformed email “student09-at-school.edu”"),
        ("22", "email", "duplicate in the file (first on row 5)"),
    ]
    assert "Enrol all" not in page
    assert table_counts(User, Enrollment) == (2, 0)

    fixed = forty_rows()
    fixed[39] = ("Already@School.edu", "Al", "Ready", "")
    response = upload(client, cohort.id, roster_csv(fixed))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Ready to enrol 40 students" in page
    token = TOKEN.search(page).group(1)
    assert table_counts(User, Enrollment) == (2, 0)  # a preview writes nothing

    response = post_form(client, f"/cohorts/{cohort.id}/roster/confirm", {"token": token})
    assert response.status_code == 302
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    # the account that existed is asked to accept; the new people are enrolled at once
    assert "39 students enrolled; 39 new accounts invited" in page
    assert "1 student who already had an account was asked to accept" in page
    assert "Al Ready" in page and "awaiting acceptance" in page
    assert table_counts(User, Enrollment, Invitation) == (41, 40, 39)
    assert len(outbox()) == 40
    assert outbox()[-1].to == "already@school.edu"
    asked = db.session.scalar(select(Enrollment).where(Enrollment.student_id == existing.id))
    assert asked.status is EnrollmentStatus.PENDING
    first = db.session.scalar(select(User).where(User.email == "student00@school.edu"))
    assert first.full_name == "First0 Last 0" and first.role is Role.STUDENT
    numbers = set(db.session.scalars(select(Enrollment.student_number)))
    assert "S000" in numbers and None in numbers
    assert existing.id in set(db.session.scalars(select(Enrollment.student_id)))
    assert "roster.imported" in audit_actions()

    # Importing the same file again: every row is already enrolled, or asked.
    response = upload(client, cohort.id, roster_csv(fixed))
    assert response.status_code == 422
    assert response.get_data(as_text=True).count("already enrolled in this cohort") == 39
    assert response.get_data(as_text=True).count("already asked to join this cohort") == 1


def test_a_roster_changed_between_preview_and_confirm_enrols_nobody(client, school):
    credential, instructor = school
    cohort = factories.cohort(instructor, credential)
    late = factories.user(Role.STUDENT, email="late@school.edu")
    login(client, instructor.email)
    rows = [("new@school.edu", "New", "One", ""), ("late@school.edu", "Late", "Two", "")]
    page = upload(client, cohort.id, roster_csv(rows)).get_data(as_text=True)
    token = TOKEN.search(page).group(1)
    post_form(client, f"/cohorts/{cohort.id}/enrollments", {"email": late.email})
    (asked,) = outbox()  # late already had an account: asked to accept
    before = table_counts(User, Enrollment, Invitation)
    response = post_form(client, f"/cohorts/{cohort.id}/roster/confirm", {"token": token})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "nobody was enrolled" in page and "already asked to join this cohort" in page
    assert table_counts(User, Enrollment, Invitation) == before
    assert outbox() == [asked]


def test_a_tampered_or_foreign_preview_token_is_refused(client, school):
    credential, instructor = school
    cohort = factories.cohort(instructor, credential)
    other = factories.cohort(instructor, credential)
    login(client, instructor.email)
    page = upload(client, cohort.id, roster_csv([("a@school.edu", "A", "B", "")])).get_data(
        as_text=True
    )
    token = TOKEN.search(page).group(1)
    for url, sent in [
        (f"/cohorts/{cohort.id}/roster/confirm", token[:-2] + "xx"),
        (f"/cohorts/{other.id}/roster/confirm", token),
    ]:
        response = post_form(client, url, {"token": sent})
        assert response.status_code == 400
        assert "Upload the file again" in response.get_data(as_text=True)
    assert table_counts(Enrollment) == (0,)


def test_unusable_files_are_refused_with_a_clear_message(app, client, school):
    credential, instructor = school
    cohort = factories.cohort(instructor, credential)
    login(client, instructor.email)
    app.config["ROSTER_MAX_BYTES"] = 2048
    big = roster_csv([(f"s{i}@school.edu", "A", "B", "") for i in range(200)])
    response = upload(client, cohort.id, big)
    assert response.status_code == 413
    assert "larger than 2 KB, the limit" in response.get_data(as_text=True)
    response = upload(client, cohort.id, b"ana@school.edu,Ana,Lima\r\nbo@school.edu,Bo,Chen\r\n")
    assert response.status_code == 400
    assert "the header row is missing" in response.get_data(as_text=True)
    app.config["ROSTER_MAX_ROWS"] = 2
    response = upload(
        client, cohort.id, roster_csv([(f"r{i}@school.edu", "A", "B", "") for i in range(3)])
    )
    assert response.status_code == 400
    assert "lists 3 students; at most 2 can be imported" in response.get_data(as_text=True)
    response = post_form(
        client, f"/cohorts/{cohort.id}/roster", {}, content_type="multipart/form-data"
    )
    assert response.status_code == 400 and "Choose a CSV file." in response.get_data(as_text=True)
    assert table_counts(User, Enrollment) == (1, 0)
