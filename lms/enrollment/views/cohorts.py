"""Cohort settings: the instructor's list of cohorts, creating and editing one, archiving it,
its co-instructors and its join code."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from wtforms import SelectChoice

from lms import links
from lms.auth.access import roles_required
from lms.credentials import service as credentials
from lms.db import utcnow
from lms.enrollment import access, cohorts
from lms.enrollment.forms import ActionForm, CohortForm, InstructorForm
from lms.enrollment.models import Cohort
from lms.enrollment.progress.matrix import cohort_progress
from lms.enrollment.views import STAFF, actor, bp, risk_policy
from lms.errors import DomainError, InvalidInput
from lms.forms import show_problems


@bp.get("/cohorts")
@roles_required(*STAFF)
def cohort_list():
    """The cohorts the instructor teaches; archived ones last."""
    taught = cohorts.cohorts_for(actor())
    active = [c for c in taught if not c.is_archived]
    now = utcnow()
    # One matrix per active cohort: the queries grow with the number of cohorts an
    # instructor runs (a handful), never with the number of students.
    summaries = {c.id: cohort_progress(c, now=now, default_policy=risk_policy()) for c in active}
    return render_template(
        "enrollment/cohort_list.html",
        cohorts=active,
        archived=[c for c in taught if c.is_archived],
        summaries=summaries,
        unjudged={cid for cid, summary in summaries.items() if summary.no_requirements},
    )


def _credential_choices(form: CohortForm) -> None:
    """Every credential, those without requirements said so (a new cohort cannot aim at
    one: the form says why beside the field)."""
    listed = credentials.list_credentials()
    ready = credentials.with_requirements(c.id for c in listed)
    form.credential_id.choices = [
        SelectChoice(
            c.id, f"{c.code}: {c.name}" + ("" if c.id in ready else " (no requirements yet)")
        )
        for c in listed
    ]


def _settings(form: CohortForm) -> dict:
    """What the cohort form sets, as the services take it."""
    return {
        "name": form.name.data,
        "credential_id": form.credential_id.data,
        "start_date": form.start_date.data,
        "exam_date": form.exam_date.data,
        "inactivity_days": form.inactivity_days.data,
        "failed_attempts_limit": form.failed_attempts_limit.data,
    }


@bp.route("/cohorts/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def create_cohort():
    """Create a cohort aimed at a credential."""
    form = CohortForm()
    _credential_choices(form)
    status = 200
    if form.validate_on_submit():
        try:
            cohort = cohorts.create_cohort(actor(), **_settings(form), now=utcnow())
        except InvalidInput as error:
            status = show_problems(form, error)
        else:
            cohort_id, name = cohort.id, cohort.name
            flash(f"Cohort “{name}” created. Now enrol its students.", "success")
            return redirect(url_for("enrollment.cohort_page", cohort_id=cohort_id))
    elif form.is_submitted():
        status = 400
    return render_template("enrollment/cohort_form.html", form=form, cohort=None), status


@bp.route("/cohorts/<int:cohort_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit_cohort(cohort_id: int):
    """Edit a cohort; manage its co-instructors, join code and archive state."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    form = CohortForm(obj=cohort if request.method == "GET" else None)
    _credential_choices(form)
    status = 200
    if form.validate_on_submit():
        try:
            cohorts.update_cohort(actor(), cohort, **_settings(form), now=utcnow())
        except DomainError as error:
            status = show_problems(form, error)
        else:
            flash("Cohort saved.", "success")
            return redirect(url_for("enrollment.edit_cohort", cohort_id=cohort_id))
    elif form.is_submitted():
        status = 400
    return render_settings(cohort, form, InstructorForm(formdata=None), status)


def render_settings(
    cohort: Cohort, form: CohortForm, instructor_form: InstructorForm, status: int = 200
):
    """The cohort's settings page: its form, co-instructors, join code and archive state;
    the form that was refused shows each problem beside its field."""
    join_link = (
        links.external_url("enrollment.join_code", code=cohort.join_code)
        if cohort.join_code
        else None
    )
    return render_template(
        "enrollment/cohort_form.html",
        form=form,
        cohort=cohort,
        instructor_form=instructor_form,
        action_form=ActionForm(formdata=None),
        join_link=join_link,
    ), status


@bp.post("/cohorts/<int:cohort_id>/archive")
@roles_required(*STAFF)
def archive_cohort(cohort_id: int):
    """Archive the cohort, or restore it (``action=restore``)."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    form = ActionForm()
    if not form.validate_on_submit():
        raise InvalidInput("The request could not be read. Reload the page and try again.")
    archived = form.action.data != "restore"
    cohorts.set_archived(actor(), cohort, archived, utcnow())
    flash("Cohort archived." if archived else "Cohort restored.", "success")
    return redirect(url_for("enrollment.edit_cohort", cohort_id=cohort_id))


@bp.post("/cohorts/<int:cohort_id>/instructors")
@roles_required(*STAFF)
def add_instructor(cohort_id: int):
    """Add a co-instructor by email."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    form = InstructorForm()
    try:
        if not form.validate_on_submit():
            raise InvalidInput("Give the email of the instructor to add.")
        person = cohorts.add_instructor(actor(), cohort, form.email.data, utcnow())
    except InvalidInput as error:
        settings = CohortForm(formdata=None, obj=cohort)
        _credential_choices(settings)
        return render_settings(cohort, settings, form, show_problems(form, error))
    message = f"{person.full_name} now teaches {cohort.name}."
    flash(message, "success")
    return redirect(url_for("enrollment.edit_cohort", cohort_id=cohort_id))


@bp.post("/cohorts/<int:cohort_id>/instructors/<int:user_id>/remove")
@roles_required(*STAFF)
def remove_instructor(cohort_id: int, user_id: int):
    """Remove a co-instructor."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    if not ActionForm().validate_on_submit():
        raise InvalidInput("The request could not be read. Reload the page and try again.")
    person = cohorts.remove_instructor(actor(), cohort, user_id, utcnow())
    message = f"{person.full_name} no longer teaches {cohort.name}."
    flash(message, "success")
    if user_id == actor().id:
        return redirect(url_for("enrollment.cohort_list"))
    return redirect(url_for("enrollment.edit_cohort", cohort_id=cohort_id))


@bp.post("/cohorts/<int:cohort_id>/join")
@roles_required(*STAFF)
def join_settings(cohort_id: int):
    """Turn the join code on or off, or replace it (``action`` = on / off / new)."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    form = ActionForm()
    if not form.validate_on_submit() or form.action.data not in ("on", "off", "new"):
        raise InvalidInput("The request could not be read. Reload the page and try again.")
    action = form.action.data
    cohorts.set_join(
        actor(), cohort, enabled=action != "off", new_code=action == "new", now=utcnow()
    )
    flash("Joining by code is on." if action != "off" else "Joining by code is off.", "success")
    return redirect(url_for("enrollment.edit_cohort", cohort_id=cohort_id))
