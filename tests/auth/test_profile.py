"""The profile page: a user's own name and time zone, and every time shown in that zone
(issue 19 item 19)."""

import re
from datetime import UTC, datetime

from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.credentials.models import Certificate
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import login, post_form

LATE_EVENING_IN_NEW_YORK = datetime(2026, 12, 5, 2, 30, tzinfo=UTC)  # 21:30 EST on 4 Dec


def enrolled_student():
    factories.course("TERM", modules=2)
    credential = factories.credential("CPC", modules=["TERM-1", "TERM-2"])
    student = factories.user(Role.STUDENT, name="Sam Rivera")
    factories.cohort(factories.user(Role.INSTRUCTOR), credential, [student])
    return student


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_a_user_in_new_york_sees_times_shifted_and_calendar_dates_as_they_are(client):
    student = enrolled_student()
    factories.pass_module(student, "TERM-1", when=LATE_EVENING_IN_NEW_YORK)
    module_page = f"/modules/{factories.module('TERM-1').id}"
    login(client, student.email)
    assert "05 Dec 2026, 02:30 UTC" in client.get(module_page).get_data(as_text=True)

    response = post_form(
        client,
        "/account/profile",
        {"full_name": "Sam Rivera", "timezone": "America/New_York"},
        follow_redirects=True,
    )
    assert "Your profile is saved." in response.get_data(as_text=True)
    page = client.get(module_page).get_data(as_text=True)
    assert "04 Dec 2026, 21:30 EST" in page and "02:30 UTC" not in page
    # The cohort's exam date is a calendar date: the same in every zone.
    assert "target exam date 15 Jan 2027" in client.get("/dashboard").get_data(as_text=True)
    # Another zone, with its own abbreviation.
    db.session.get(User, student.id).timezone = "Europe/Paris"
    db.session.commit()
    assert "05 Dec 2026, 03:30 CET" in client.get(module_page).get_data(as_text=True)


def test_the_profile_saves_name_and_zone_and_audits_before_and_after(client):
    student = factories.user(Role.STUDENT, name="Sam Rivera")
    login(client, student.email)
    page = client.get("/account/profile").get_data(as_text=True)
    assert 'value="Sam Rivera"' in page
    assert '<option selected value="UTC">UTC</option>' in page
    assert '<option value="America/New_York">America/New_York</option>' in page
    assert 'href="/account/profile">Profile</a>' in page  # in the menu
    post_form(
        client,
        "/account/profile",
        {"full_name": " Samantha Rivera ", "timezone": "Asia/Kolkata"},
    )
    db.session.refresh(student)
    assert (student.full_name, student.timezone) == ("Samantha Rivera", "Asia/Kolkata")
    event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert (event.action, event.actor_id, event.target_id) == (
        "profile.updated",
        student.id,
        str(student.id),
    )
    assert event.details == {
        "full_name": {"from": "Sam Rivera", "to": "Samantha Rivera"},
        "timezone": {"from": "UTC", "to": "Asia/Kolkata"},
    }
    page = client.get("/account/profile").get_data(as_text=True)
    assert '<option selected value="Asia/Kolkata">' in page


def test_an_unknown_zone_or_an_empty_name_is_refused_beside_the_field(client):
    student = factories.user(Role.STUDENT, name="Sam Rivera")
    login(client, student.email)
    events = audit_count()
    for data, field, message in [
        ({"full_name": "Sam Rivera", "timezone": "Mars/Olympus_Mons"}, "timezone", "time zone"),
        ({"full_name": "Sam Rivera", "timezone": "../../etc/passwd"}, "timezone", "time zone"),
        ({"full_name": "Sam Rivera", "timezone": ""}, "timezone", "time zone"),
        ({"full_name": "  ", "timezone": "Europe/Paris"}, "full_name", "full name"),
    ]:
        response = post_form(client, "/account/profile", data)
        assert response.status_code == 400, data
        page = response.get_data(as_text=True)
        assert re.search(rf'<p class="error" id="{field}-error">[^<]*{message}', page), data
        assert re.search(rf'aria-describedby="[^"]*\b{field}-error\b', page)
    db.session.refresh(student)
    assert (student.full_name, student.timezone) == ("Sam Rivera", "UTC")
    assert audit_count() == events


def test_the_public_verification_page_stays_in_utc_and_says_so(app, client):
    student = enrolled_student()
    student.timezone = "America/New_York"
    db.session.commit()
    factories.pass_module(student, "TERM-1", when=LATE_EVENING_IN_NEW_YORK)
    factories.pass_module(student, "TERM-2", when=LATE_EVENING_IN_NEW_YORK)
    code = db.session.scalar(select(Certificate.code).where(Certificate.student_id == student.id))
    anonymous = app.test_client().get(f"/verify/{code}").get_data(as_text=True)
    login(client, student.email)
    theirs = client.get(f"/verify/{code}").get_data(as_text=True)
    for page in (anonymous, theirs):
        assert "<dt>Issued</dt><dd>05 Dec 2026</dd>" in page
        assert "Dates on this page are in UTC" in page
    # Their own dashboard shows the day it was in New York.
    assert "was issued on 04 Dec 2026" in client.get("/dashboard").get_data(as_text=True)


def test_only_a_logged_in_user_has_a_profile(client):
    response = client.get("/account/profile")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
