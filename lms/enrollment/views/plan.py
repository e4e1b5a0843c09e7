"""The study plan: a due date for every required module, which the instructor may move."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from lms.auth.access import roles_required
from lms.db import utcnow
from lms.enrollment import access, schedule
from lms.enrollment.forms import DueDateForm
from lms.enrollment.progress.plan import study_plan as plan_of
from lms.enrollment.views import STAFF, actor, bp
from lms.errors import InvalidInput


@bp.route("/cohorts/<int:cohort_id>/plan", methods=["GET", "POST"])
@roles_required(*STAFF)
def study_plan(cohort_id: int):
    """The study plan: a due date for every required module; the instructor moves them."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    form = DueDateForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            raise InvalidInput("The new due date could not be read. Use YYYY-MM-DD.")
        schedule.move_due_date(actor(), cohort, form.module_code.data, form.due_on.data, utcnow())
        flash(f"Due date of {form.module_code.data} moved.", "success")
        return redirect(url_for("enrollment.study_plan", cohort_id=cohort_id))
    return render_template("enrollment/plan.html", cohort=cohort, plan=plan_of(cohort), form=form)
