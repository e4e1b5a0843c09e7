"""The student dashboard and the instructor's cohort pages."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import SelectChoice

from lms.auth.access import roles_required
from lms.auth.models import Role
from lms.credentials import service as credentials
from lms.db import utcnow
from lms.enrollment import service
from lms.enrollment.forms import CohortForm, EnrollForm, EvidenceDecisionForm
from lms.errors import InvalidInput
from lms.extensions import db

bp = Blueprint("enrollment", __name__)
STAFF = (Role.INSTRUCTOR, Role.ADMIN)


def _actor():
    return current_user._get_current_object()


@bp.get("/dashboard")
@roles_required(Role.STUDENT)
def dashboard():
    """A student's progress toward each target credential, and what is still missing."""
    student = _actor()
    return render_template(
        "enrollment/dashboard.html",
        progress=service.student_dashboard(student),
        evidence=credentials.evidence_of([student.id]),
    )


@bp.get("/cohorts")
@roles_required(*STAFF)
def cohort_list():
    """The cohorts the instructor teaches."""
    return render_template("enrollment/cohort_list.html", cohorts=service.cohorts_for(_actor()))


@bp.route("/cohorts/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def create_cohort():
    """Create a cohort aimed at a credential."""
    form = CohortForm()
    form.credential_id.choices = [
        SelectChoice(c.id, f"{c.code}: {c.name}") for c in credentials.list_credentials()
    ]
    status = 200
    if form.validate_on_submit():
        try:
            cohort = service.create_cohort(
                _actor(),
                name=form.name.data,
                credential_id=form.credential_id.data,
                start_date=form.start_date.data,
                exam_date=form.exam_date.data,
                now=utcnow(),
            )
        except InvalidInput as error:
            db.session.rollback()
            form.form_errors.append(error.message)
            status = 400
        else:
            db.session.commit()
            flash(f"Cohort “{cohort.name}” created. Now enrol its students.", "success")
            return redirect(url_for("enrollment.cohort_page", cohort_id=cohort.id))
    elif form.is_submitted():
        status = 400
    return render_template("enrollment/cohort_form.html", form=form), status


@bp.get("/cohorts/<int:cohort_id>")
@roles_required(*STAFF)
def cohort_page(cohort_id: int):
    """Students x requirements of the cohort's credential, with evidence to review."""
    cohort = service.get_cohort_for(_actor(), cohort_id)
    return render_template(
        "enrollment/cohort.html",
        progress=service.cohort_progress(cohort),
        enroll_form=EnrollForm(),
        decision_form=EvidenceDecisionForm(),
    )


@bp.post("/cohorts/<int:cohort_id>/enrollments")
@roles_required(*STAFF)
def enroll(cohort_id: int):
    """Enrol a student by email."""
    cohort = service.get_cohort_for(_actor(), cohort_id)
    form = EnrollForm()
    if not form.validate_on_submit():
        raise InvalidInput("Give the email of the student to enrol.")
    enrollment = service.enroll_by_email(_actor(), cohort, form.email.data, utcnow())
    message = f"{enrollment.student.full_name} is enrolled in {cohort.name}."
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("enrollment.cohort_page", cohort_id=cohort.id))


@bp.post("/cohorts/<int:cohort_id>/evidence/<int:evidence_id>")
@roles_required(*STAFF)
def decide_evidence(cohort_id: int, evidence_id: int):
    """Verify or reject a student's evidence."""
    cohort = service.get_cohort_for(_actor(), cohort_id)
    form = EvidenceDecisionForm()
    if not form.validate_on_submit():
        raise InvalidInput("The decision could not be read. Reload the page and try again.")
    evidence = service.decide_evidence(
        _actor(),
        evidence_id,
        verified=bool(form.verify.data),
        reason=form.reason.data or "",
        now=utcnow(),
    )
    db.session.commit()
    flash(f"Evidence {evidence.status.value}.", "success")
    return redirect(url_for("enrollment.cohort_page", cohort_id=cohort.id))
