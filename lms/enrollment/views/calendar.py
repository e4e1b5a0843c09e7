"""The calendar feed: the secret .ics address a calendar program subscribes to, and the
student's button that makes (or resets) it, on their dashboard."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, current_app

from lms import links
from lms.auth.access import public, roles_required
from lms.auth.models import Role
from lms.db import utcnow
from lms.enrollment import calendar
from lms.enrollment.forms import CalendarLinkForm, ExamBookingForm
from lms.enrollment.views import actor, bp
from lms.enrollment.views.dashboard import render_dashboard
from lms.errors import InvalidInput
from lms.forms import show_problems


@bp.get("/calendar/<token>.ics")
@public
def calendar_feed(token: str):
    """A student's due dates and booked exam dates as iCalendar; 404 for an unknown or reset
    token. The token is the only credential: calendar programs cannot log in."""
    now = utcnow()
    student = calendar.student_for_feed(token)
    base = links.public_base_url()
    school = current_app.config.get("SCHOOL_NAME") or "Certification readiness"
    body = calendar.render_calendar(
        calendar.calendar_items(student),
        name=f"{school}: study plan and exams",
        domain=urlsplit(base).hostname or "localhost",
        url=links.external_url("enrollment.dashboard"),
        now=now,
    )
    return Response(
        body,
        content_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": 'inline; filename="study-plan.ics"',
            "Cache-Control": "private, no-cache",
        },
    )


@bp.post("/calendar/link")
@roles_required(Role.STUDENT)
def calendar_link():
    """Make the student's calendar link, or reset it; the new link is shown on this response
    only (the server keeps its hash, not the link)."""
    form = CalendarLinkForm()
    exam_form = ExamBookingForm(formdata=None)
    try:
        if not form.validate_on_submit():
            raise InvalidInput(
                "The form could not be checked. Reload the page and try again.", field="confirm"
            )
        token = calendar.issue_calendar_link(
            actor(), confirmed=bool(form.confirm.data), now=utcnow()
        )
    except InvalidInput as error:
        status = show_problems(form, error)
        return render_dashboard(actor(), exam_form, status=status, calendar_form=form)
    return render_dashboard(
        actor(),
        exam_form,
        calendar_form=CalendarLinkForm(formdata=None),
        calendar_url=links.external_url("enrollment.calendar_feed", token=token),
    )
