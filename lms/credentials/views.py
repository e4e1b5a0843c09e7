"""Public certificate verification, and students' evidence."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from lms.auth.access import public, roles_required
from lms.auth.models import Role
from lms.credentials import service
from lms.credentials.forms import EvidenceForm
from lms.db import utcnow
from lms.extensions import db

bp = Blueprint("credentials", __name__)


@bp.get("/verify/<code>")
@public
def verify(code: str):
    """Anyone can check a certificate by its code: status, name, credential, dates."""
    certificate = service.get_certificate_by_code(code)
    return render_template(
        "credentials/verify.html",
        certificate=certificate,
        school=current_app.config["SCHOOL_NAME"],
    )


@bp.route("/evidence", methods=["GET", "POST"])
@roles_required(Role.STUDENT)
def evidence():
    """A student records eligibility evidence, such as a high school diploma or GED."""
    student = current_user._get_current_object()
    form = EvidenceForm()
    status = 200
    if form.validate_on_submit():
        service.submit_evidence(student, form.kind_value, form.detail.data, utcnow())
        db.session.commit()
        flash("Your evidence is submitted. Your instructor will review it.", "success")
        return redirect(url_for("enrollment.dashboard"))
    if form.is_submitted():
        status = 400
    return render_template(
        "credentials/evidence.html", form=form, evidence=service.evidence_of([student.id])
    ), status
