"""Enrolling students: one by email, or a whole roster from a CSV file (a preview of every
problem first, then everyone or no one)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for

from lms.auth.access import roles_required
from lms.db import utcnow
from lms.enrollment import access, enrollments, roster
from lms.enrollment.forms import EnrollForm, RosterConfirmForm, RosterUploadForm
from lms.enrollment.models import EnrollmentStatus
from lms.enrollment.rules.roster_file import Roster
from lms.enrollment.views import STAFF, actor, bp
from lms.enrollment.views.matrix import render_cohort_page
from lms.errors import InvalidInput
from lms.extensions import db
from lms.forms import oversized_upload, show_problems, takes_uploads

DEFAULT_ROSTER_MAX_BYTES = 256 * 1024
DEFAULT_ROSTER_MAX_ROWS = 1000


@bp.post("/cohorts/<int:cohort_id>/enrollments")
@roles_required(*STAFF)
def enroll(cohort_id: int):
    """Enrol a student by email, inviting a new person when a name is given."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    form = EnrollForm()
    try:
        if not form.validate_on_submit():
            raise InvalidInput("Give the email of the student to enrol.")
        enrollment = enrollments.enroll_by_email(
            actor(),
            cohort,
            form.email.data,
            utcnow(),
            full_name=form.full_name.data,
            student_number=form.student_number.data or None,
        )
    except InvalidInput as error:
        return render_cohort_page(cohort, form, show_problems(form, error))
    name = enrollment.student.full_name
    if enrollment.status is EnrollmentStatus.PENDING:
        message = (
            f"{name} already has an account: they were asked by email to accept the place in"
            f" {cohort.name}, and join when they do."
        )
    else:
        message = f"{name} is enrolled in {cohort.name}."
    flash(message, "success")
    return redirect(url_for("enrollment.cohort_page", cohort_id=cohort_id))


@bp.route("/cohorts/<int:cohort_id>/roster", methods=["GET", "POST"])
@roles_required(*STAFF)
@takes_uploads
def roster_upload(cohort_id: int):
    """Upload a roster CSV and preview it: every problem row by row, nothing written yet."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    form = RosterUploadForm()
    max_bytes = int(current_app.config.get("ROSTER_MAX_BYTES", DEFAULT_ROSTER_MAX_BYTES))
    context = {"cohort": cohort, "form": form, "max_kb": max_bytes // 1024}
    if not form.validate_on_submit():
        status = oversized_upload(form.file) or (400 if form.is_submitted() else 200)
        return render_template("enrollment/roster.html", **context), status
    data = form.file.data.read(max_bytes + 1)
    if len(data) > max_bytes:
        form.file.errors.append(
            f"The file is larger than {max_bytes // 1024} KB, the limit. "
            "Split it into smaller files."
        )
        return render_template("enrollment/roster.html", **context), 413
    try:
        preview = roster.preview(
            cohort,
            data,
            max_bytes=max_bytes,
            max_rows=int(current_app.config.get("ROSTER_MAX_ROWS", DEFAULT_ROSTER_MAX_ROWS)),
        )
    except InvalidInput as error:
        status = show_problems(form, error)
        return render_template("enrollment/roster.html", **context), status
    token = roster.sign_rows(cohort, preview.rows, current_app.config["SECRET_KEY"])
    confirm = RosterConfirmForm(token=token) if preview.ok else None
    return render_template(
        "enrollment/roster.html", **context, preview=preview, confirm_form=confirm
    ), (200 if preview.ok else 422)


@bp.post("/cohorts/<int:cohort_id>/roster/confirm")
@roles_required(*STAFF)
def roster_confirm(cohort_id: int):
    """Enrol every previewed row in one transaction, or nobody."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    form = RosterConfirmForm()
    if not form.validate_on_submit():
        raise InvalidInput("The preview could not be read. Upload the file again.")
    rows = roster.load_rows(cohort, form.token.data, current_app.config["SECRET_KEY"])
    try:
        result = roster.import_rows(actor(), cohort, rows, utcnow())
    except roster.RosterRejected as error:
        db.session.rollback()  # the page must not show the rows the refused import flushed
        upload = RosterUploadForm()
        upload.form_errors.append(error.message)
        cohort = access.get_cohort_for(actor(), cohort_id)
        return render_template(
            "enrollment/roster.html",
            cohort=cohort,
            form=upload,
            max_kb=int(current_app.config.get("ROSTER_MAX_BYTES", DEFAULT_ROSTER_MAX_BYTES))
            // 1024,
            preview=Roster((), error.problems),
            confirm_form=None,
        ), 409
    message = (
        f"{result.enrolled} students enrolled; {result.invited} new accounts invited by email."
    )
    if result.asked:
        one = result.asked == 1
        message += (
            f" {result.asked} student{'' if one else 's'} who already had an account"
            f" {'was' if one else 'were'} asked to accept, and join{'s' if one else ''} on"
            " accepting."
        )
    flash(message, "success")
    return redirect(url_for("enrollment.cohort_page", cohort_id=cohort_id))
