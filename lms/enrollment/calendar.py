"""The calendar feed: a secret address per student that a calendar program subscribes to,
with an all-day event for each due date of their study plans and each exam date they booked.

The token is shown once, when it is made; only its SHA-256 is stored (as for API tokens). A
reset makes a new token and forgets the old one, so the old address answers 404 at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import icalendar
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.auth import one_time
from lms.auth.models import User
from lms.credentials import service as credentials
from lms.enrollment.enrollments import active_enrollments
from lms.enrollment.models import CalendarFeed
from lms.enrollment.progress.plan import study_plan
from lms.errors import InvalidInput, NotFound, PermissionDenied
from lms.extensions import db
from lms.ledger import audit


def feed_of(student: User) -> CalendarFeed | None:
    """The student's calendar feed, if they made one."""
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == student.id))


def issue_calendar_link(student: User, *, confirmed: bool, now: datetime) -> str:
    """Make the student's calendar token, or replace it (which must be ``confirmed``: the old
    address stops working); returns the token, which is never stored."""
    if not student.is_student:
        raise PermissionDenied("Only students have a calendar feed.")
    feed = feed_of(student)
    resetting = feed is not None
    if resetting and not confirmed:
        raise InvalidInput(
            "Tick the box to confirm: the calendars subscribed to the old link stop updating.",
            field="confirm",
        )
    token = one_time.new_secret()
    if not resetting:
        feed = CalendarFeed(user_id=student.id)
        db.session.add(feed)
    feed.token_hash = one_time.hash_secret(token)
    feed.created_at = now
    db.session.flush()
    audit.record_event(
        "calendar.link_reset" if resetting else "calendar.link_created",
        actor=student,
        now=now,
        target_type="user",
        target_id=student.id,
    )
    return token


def student_for_feed(token: str) -> User:
    """The active student whose calendar token this is; ``NotFound`` for any other token."""
    feed = db.session.scalar(
        select(CalendarFeed)
        .where(CalendarFeed.token_hash == one_time.hash_secret(token))
        .options(selectinload(CalendarFeed.user))
    )
    if feed is None or not feed.user.active or not feed.user.is_student:
        raise NotFound("There is no such calendar.")
    return feed.user


@dataclass(frozen=True)
class CalendarItem:
    """One all-day event of the feed."""

    uid: str  # stable for the item whatever its date: a moved due date updates the event
    day: date
    summary: str
    description: str


def calendar_items(student: User) -> list[CalendarItem]:
    """Each due date of the study plan of every cohort the student is active in, and each
    exam date they booked, soonest first."""
    items = []
    for enrollment in active_enrollments(student):
        cohort = enrollment.cohort
        code = cohort.credential.code
        try:
            plan = study_plan(cohort)
        except credentials.NoRequirements:
            plan = []
        items += [
            CalendarItem(
                uid=f"due-{cohort.id}-{item.code}",
                day=item.due,
                summary=f"Due: {item.title} ({code})",
                description=f"{item.title} ({item.code}) is due in the study plan of "
                f"{cohort.name}.",
            )
            for item in plan
            if item.due is not None
        ]
        if enrollment.exam_booked_on is not None:
            items.append(
                CalendarItem(
                    uid=f"exam-{enrollment.id}",
                    day=enrollment.exam_booked_on,
                    summary=f"{code} certification exam",
                    description=f"The {code} exam you booked ({cohort.name}).",
                )
            )
    return sorted(items, key=lambda item: (item.day, item.uid))


def render_calendar(
    items: list[CalendarItem], *, name: str, domain: str, url: str, now: datetime
) -> bytes:
    """The items as an iCalendar (RFC 5545) file: one all-day VEVENT each, CRLF line ends,
    lines folded at 75 octets (both done by the icalendar package)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//{domain}//Certification readiness//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for item in items:
        event = icalendar.Event()
        event.add("uid", f"{item.uid}@{domain}")
        event.add("dtstamp", now)
        event.add("dtstart", item.day)
        event.add("dtend", item.day + timedelta(days=1))
        event.add("summary", item.summary)
        event.add("description", item.description)
        event.add("url", url)
        event.add("transp", "TRANSPARENT")  # a due date does not make the student busy
        calendar.add_component(event)
    return calendar.to_ical()
