"""The study plan: a due date for every required module, which the instructor may move."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from lms.auth.access import roles_required
from lms.credentials import service as credentials
from lms.db import utcnow
from lms.enrollment import access, schedule
from lms.enrollment.forms import DueDateForm
from lms.enrollment.progress.plan import study_plan as plan_of
from lms.enrollment.views import STAFF, actor, bp
from lms.errors import InvalidInput
from lms.forms import show_problems


@bp.route("/cohorts/<int:cohort_id>/plan", methods=["GET", "POST"])
@roles_required(*STAFF)
def study_plan(cohort_id: int):
    """The study plan: a due date for every required module; the instructor moves them."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    form = DueDateForm()
    status = 200
    if form.validate_on_submit():
        try:
            schedule.move_due_date(
                actor(), cohort, form.module_code.data, form.due_on.data, utcnow()
            )
        except InvalidInput as error:
            status = show_problems(form, error)
        else:
            flash(f"Due date of {form.module_code.data} moved.", "success")
            return redirect(url_for("enrollment.study_plan", cohort_id=cohort_id))
    elif form.is_submitted():
        status = 400  # each problem is beside its field (an unreadable date: "Not a valid …")
    try:
        plan, no_requirements = plan_of(cohort), None
    except credentials.NoRequirements as missing:
        plan, no_requirements = [], missing
    # A refused date is shown in its module's row; what belongs to no row, above the plan.
    refused = form.module_code.data if form.errors else None
    in_a_row = refused in {item.code for item in plan}
    alerts = [
        *form.form_errors,
        *form.module_code.errors,
        *([] if in_a_row else form.due_on.errors),
    ]
    return render_template(
        "enrollment/plan.html",
        cohort=cohort,
        plan=plan,
        form=form,
        refused=refused if in_a_row else None,
        alerts=alerts,
        no_requirements=no_requirements,
    ), status
