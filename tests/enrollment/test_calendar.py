"""The calendar feed: a secret per-student .ics address with the study plan's due dates and
the booked exam date, parsed back with icalendar; a reset kills the old address; nobody
else's dates ever appear."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import date

import icalendar
import pytest
from sqlalchemy import select

from lms.auth.models import Role
from lms.enrollment import schedule
from lms.enrollment import service as enrollment
from lms.enrollment.models import CalendarFeed
from lms.enrollment.progress.plan import study_plan
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import login, post_form
from tests.factories import NOW

LONG_NAME = "Cohorte d’été — Médecine et codage, groupe du soir à Montréal"


@pytest.fixture
def school(app):
    """Ada in a CPC cohort (three TERM modules) with a booked exam; Ben in a CCA cohort (two
    BILL modules) with another booking."""
    factories.course("TERM", modules=3)
    factories.course("BILL", modules=2)
    cpc = factories.credential("CPC", modules=["TERM-1", "TERM-2", "TERM-3"])
    cca = factories.credential("CCA", modules=["BILL-1", "BILL-2"])
    instructor = factories.user(Role.INSTRUCTOR)
    ada = factories.user(Role.STUDENT, name="Ada Abbott")
    ben = factories.user(Role.STUDENT, name="Ben Brook")
    cohort = factories.cohort(instructor, cpc, [ada], name=LONG_NAME)
    other = factories.cohort(instructor, cca, [ben], name="CCA evening")
    bookings = ((ada, cohort.id, date(2027, 1, 20)), (ben, other.id, date(2027, 2, 3)))
    for student, cohort_id, day in bookings:
        schedule.record_exam_booking(
            student, cohort_id, booked_on=day, employer_paid=False, today=NOW.date(), now=NOW
        )
    db.session.commit()
    return {"instructor": instructor, "ada": ada, "ben": ben, "cohort": cohort, "other": other}


def make_link(client, confirm: bool = False):
    """POST the dashboard's calendar form; the response and the feed's path in it."""
    response = post_form(client, "/calendar/link", {"confirm": "y"} if confirm else {})
    found = re.search(r'id="calendar-url"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    url = html.unescape(found.group(1)) if found else None
    return response, url


def path_of(url: str) -> str:
    return url.split("localhost", 1)[1]


def events_of(body: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(body)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_the_feed_has_an_all_day_event_per_due_date_and_the_booked_exam(client, school):
    ada, cohort = school["ada"], school["cohort"]
    login(client, ada.email)

    response, url = make_link(client)

    assert response.status_code == 200
    assert url.startswith("http://localhost/calendar/") and url.endswith(".ics")
    feed = client.get(path_of(url))
    assert feed.status_code == 200
    assert feed.headers["Content-Type"] == "text/calendar; charset=utf-8"
    body = feed.get_data()
    plan = study_plan(enrollment.get_cohort_for(school["instructor"], cohort.id))
    due = {f"due-{cohort.id}-{item.code}@localhost": item.due for item in plan}
    assert len(due) == 3 and all(due.values())
    events = events_of(body)
    exam_uid = next(uid for uid in events if uid.startswith("exam-"))
    assert set(events) == {*due, exam_uid}
    for uid, day in due.items():
        assert events[uid].decoded("DTSTART") == day
        assert str(events[uid]["SUMMARY"]).startswith("Due: Module ")
        assert str(events[uid]["SUMMARY"]).endswith("(CPC)")
    assert events[exam_uid].decoded("DTSTART") == date(2027, 1, 20)
    assert str(events[exam_uid]["SUMMARY"]) == "CPC certification exam"
    for event in events.values():
        assert event.decoded("DTSTAMP").utcoffset().total_seconds() == 0
    # as RFC 5545 writes it: all-day dates, CRLF line ends, lines of 75 octets at most
    text = body.decode("utf-8")
    assert text.count("DTSTART;VALUE=DATE:") == 4
    assert len(re.findall(r"\r\nDTSTAMP:\d{8}T\d{6}Z\r\n", text)) == 4  # in UTC
    assert "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")
    assert max(len(line.encode("utf-8")) for line in lines) <= 75
    assert any(line.startswith(" ") for line in lines)  # the long cohort name was folded
    assert LONG_NAME in str(events[exam_uid]["DESCRIPTION"])  # and unfolds back whole


def test_only_the_hash_of_the_token_is_kept_and_the_making_is_audited(client, school):
    ada = school["ada"]
    login(client, ada.email)
    _, url = make_link(client)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    feed = db.session.scalar(select(CalendarFeed))
    assert feed.user_id == ada.id
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(db.session.execute(select(AuditEvent.details)).all())
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action.like("calendar.%")))
    assert (event.action, event.actor_id) == ("calendar.link_created", ada.id)
    page = client.get("/dashboard").get_data(as_text=True)
    assert token not in page  # shown once, on the response that made it
    assert "Reset the link" in page


def test_a_reset_kills_the_old_link(client, school):
    login(client, school["ada"].email)
    _, old = make_link(client)
    before = db.session.scalar(select(CalendarFeed.token_hash))

    refused, url = make_link(client)  # without ticking the box

    assert refused.status_code == 400 and url is None
    page = refused.get_data(as_text=True)
    assert '<p class="error" id="confirm-error">Tick the box to confirm' in page
    assert 'aria-describedby="confirm-error"' in page
    assert db.session.scalar(select(CalendarFeed.token_hash)) == before
    assert client.get(path_of(old)).status_code == 200

    response, new = make_link(client, confirm=True)

    assert response.status_code == 200 and new != old
    assert client.get(path_of(old)).status_code == 404
    assert client.get(path_of(new)).status_code == 200
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("calendar.%"))
    ).all()
    assert actions == ["calendar.link_created", "calendar.link_reset"]


def test_another_students_dates_never_appear(client, school):
    ada, ben = school["ada"], school["ben"]
    login(client, ada.email)
    _, adas = make_link(client)
    client.get("/logout")
    login(client, ben.email)
    _, bens = make_link(client)
    client.get("/logout")

    ada_text = client.get(path_of(adas)).get_data(as_text=True)
    ben_text = client.get(path_of(bens)).get_data(as_text=True)

    ada_events, ben_events = events_of(ada_text.encode()), events_of(ben_text.encode())
    assert not set(ada_events) & set(ben_events)
    assert "BILL" not in ada_text and "CCA" not in ada_text and "20270203" not in ada_text
    assert "TERM" not in ben_text and "CPC" not in ben_text and "20270120" not in ben_text
    assert len(ben_events) == 3  # two due dates and the exam


def test_a_moved_due_date_keeps_its_event(client, school):
    instructor, cohort = school["instructor"], school["cohort"]
    login(client, school["ada"].email)
    _, url = make_link(client)
    before = events_of(client.get(path_of(url)).get_data())
    schedule.move_due_date(
        instructor,
        enrollment.get_cohort_for(instructor, cohort.id),
        "TERM-2",
        date(2026, 12, 24),
        NOW,
    )
    db.session.commit()

    after = events_of(client.get(path_of(url)).get_data())

    assert set(after) == set(before)  # the same UIDs: calendars update the event
    assert after[f"due-{cohort.id}-TERM-2@localhost"].decoded("DTSTART") == date(2026, 12, 24)


def test_unknown_tokens_and_disabled_accounts_get_404(client, school):
    ada = school["ada"]
    assert client.get("/calendar/not-a-token.ics").status_code == 404
    login(client, ada.email)
    _, url = make_link(client)
    ada.active = False
    db.session.commit()
    assert client.get(path_of(url)).status_code == 404


def test_only_students_make_a_calendar_link(client, school):
    login(client, school["instructor"].email)
    assert post_form(client, "/calendar/link", {}).status_code == 403
    assert db.session.scalar(select(CalendarFeed)) is None


def test_the_feed_is_rate_limited(app, client, school):
    app.config["CALENDAR_RATE_LIMIT_FEED"] = "3 per minute"
    login(client, school["ada"].email)
    _, url = make_link(client)
    client.get("/logout")
    for _ in range(3):
        assert client.get(path_of(url)).status_code == 200
    assert client.get(path_of(url)).status_code == 429
