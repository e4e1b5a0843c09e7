"""The student's dashboard: progress toward each target credential, what is due, and the exam
date they booked."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from lms.auth.access import roles_required
from lms.auth.models import Role, User
from lms.courses import reads as courses
from lms.credentials import service as credentials
from lms.db import utcnow
from lms.enrollment import announcements, calendar, schedule
from lms.enrollment.forms import CalendarLinkForm, ExamBookingForm
from lms.enrollment.progress.dashboard import student_dashboard
from lms.enrollment.views import actor, bp
from lms.errors import InvalidInput
from lms.forms import show_problems


@bp.get("/dashboard")
@roles_required(Role.STUDENT)
def dashboard():
    """A student's progress toward each target credential, what is due, and exam bookings."""
    return render_dashboard(actor(), ExamBookingForm())


def render_dashboard(
    student: User,
    exam_form: ExamBookingForm,
    refused: int | None = None,
    status: int = 200,
    *,
    calendar_form: CalendarLinkForm | None = None,
    calendar_url: str | None = None,
):
    """The dashboard; a refused booking (``refused``: its cohort) shows its problems beside
    the date in that cohort's form, with the status it was refused with (a refused calendar
    reset, beside its box). ``calendar_url``: the calendar link just made, shown once."""
    return render_template(
        "enrollment/dashboard.html",
        progress=student_dashboard(student, utcnow()),
        evidence=credentials.evidence_of([student.id]),
        exam_form=exam_form,
        refused=refused,
        contact_hours=courses.contact_hours_by_student([student.id])[student.id],
        announcements=announcements.announcements_for_student(student.id),
        calendar_feed=calendar.feed_of(student),
        calendar_form=calendar_form or CalendarLinkForm(formdata=None),
        calendar_url=calendar_url,
    ), status


@bp.post("/dashboard/exam/<int:cohort_id>")
@roles_required(Role.STUDENT)
def book_exam(cohort_id: int):
    """Record (or clear) the exam date the student booked, and who pays the fee."""
    form = ExamBookingForm()
    now = utcnow()
    try:
        if not form.validate_on_submit():
            raise InvalidInput(
                "The exam date could not be read. Use the date picker, or YYYY-MM-DD.",
                field="booked_on",
            )
        enrollment = schedule.record_exam_booking(
            actor(),
            cohort_id,
            booked_on=form.booked_on.data,
            employer_paid=bool(form.employer_paid.data),
            today=now.date(),
            now=now,
        )
    except InvalidInput as error:
        return render_dashboard(actor(), form, cohort_id, show_problems(form, error))
    message = "Exam date saved." if enrollment.exam_booked_on else "Exam date cleared."
    flash(message, "success")
    return redirect(url_for("enrollment.dashboard"))
