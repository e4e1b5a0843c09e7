"""The student's dashboard: progress toward each target credential, what is due, and the exam
date they booked."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from lms.auth.access import roles_required
from lms.auth.models import Role, User
from lms.courses import reads as courses
from lms.credentials import service as credentials
from lms.db import utcnow
from lms.enrollment import announcements, calendar, enrollments, schedule
from lms.enrollment.forms import CalendarLinkForm, ExamBookingForm, PlaceAnswerForm
from lms.enrollment.progress.dashboard import student_dashboard
from lms.enrollment.views import actor, bp
from lms.errors import Conflict, InvalidInput
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
    answer_form: PlaceAnswerForm | None = None,
    refused_place: int | None = None,
):
    """The dashboard; a refused booking (``refused``: its cohort) shows its problems beside
    the date in that cohort's form, a refused answer to an offered place (``refused_place``:
    its enrolment) beside that place's buttons, a refused calendar reset beside its box, with
    the status it was refused with. ``calendar_url``: the calendar link just made, shown once."""
    return render_template(
        "enrollment/dashboard.html",
        places=enrollments.pending_places(student),
        answer_form=answer_form or PlaceAnswerForm(formdata=None),
        refused_place=refused_place,
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


@bp.post("/dashboard/places/<int:enrollment_id>")
@roles_required(Role.STUDENT)
def answer_place(enrollment_id: int):
    """The student accepts or declines a place in a cohort an instructor offered them."""
    form = PlaceAnswerForm()
    try:
        if not form.validate_on_submit():
            raise InvalidInput("Press Accept or Decline.", field="answer")
        accept = form.answer.data == "accept"
        place = enrollments.answer_place(actor(), enrollment_id, accept=accept, now=utcnow())
    except (InvalidInput, Conflict) as error:  # a place that is not theirs: the 404 page
        status = show_problems(form, error, "answer")
        return render_dashboard(
            actor(),
            ExamBookingForm(formdata=None),
            status=status,
            answer_form=form,
            refused_place=enrollment_id,
        )
    name = place.cohort.name
    if accept:
        flash(f"You joined {name}: its instructors now follow your progress.", "success")
    else:
        flash(f"You declined to join {name}. Nothing of yours was shared.", "success")
    return redirect(url_for("enrollment.dashboard"))
