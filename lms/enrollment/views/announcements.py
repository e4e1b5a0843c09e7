"""A cohort's announcements: the instructor writes one to every student of the cohort."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from lms.auth.access import roles_required
from lms.db import utcnow
from lms.enrollment import access, announcements
from lms.enrollment.forms import AnnouncementForm
from lms.enrollment.views import STAFF, actor, bp
from lms.errors import InvalidInput
from lms.forms import show_problems


@bp.route("/cohorts/<int:cohort_id>/announcements", methods=["GET", "POST"])
@roles_required(*STAFF)
def cohort_announcements(cohort_id: int):
    """Post an announcement to the cohort, and every one posted before, newest first."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    form = AnnouncementForm()
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate():
            try:
                announcements.post_announcement(
                    actor(), cohort, form.title.data or "", form.body.data or "", utcnow()
                )
            except InvalidInput as error:
                status = show_problems(form, error)
            else:
                flash("The announcement is posted to every student of the cohort.", "success")
                return redirect(url_for("enrollment.cohort_announcements", cohort_id=cohort_id))
    return render_template(
        "enrollment/announcements.html",
        cohort=cohort,
        form=form,
        announcements=announcements.announcements_of(cohort),
    ), status
