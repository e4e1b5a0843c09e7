"""One student in a cohort: their record, overrides, a new invitation, withdrawing or moving
them, and deciding on their evidence."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from wtforms import SelectChoice

from lms.auth.access import roles_required
from lms.db import utcnow
from lms.enrollment import access, cohorts, enrollments, invitations, overrides, service
from lms.enrollment.forms import (
    ActionForm,
    EvidenceDecisionForm,
    MoveForm,
    OverrideForm,
    WithdrawForm,
)
from lms.enrollment.progress.record import student_record
from lms.enrollment.views import STAFF, actor, bp
from lms.errors import InvalidInput


def _back(cohort_id: int, student_id: int):
    return redirect(url_for("enrollment.student_page", cohort_id=cohort_id, student_id=student_id))


@bp.get("/cohorts/<int:cohort_id>/students/<int:student_id>")
@roles_required(*STAFF)
def student_page(cohort_id: int, student_id: int):
    """A student's record in the cohort: requirements, overrides, enrolment history."""
    user = actor()
    cohort = access.get_cohort_for(user, cohort_id)
    enrollment = access.get_enrollment_for(user, cohort, student_id)
    record = student_record(cohort, enrollment)
    override_form = OverrideForm()
    override_form.key.choices = [
        SelectChoice(c.key, f"{c.label}: {c.title}") for c in record.columns
    ]
    move_form = MoveForm()
    move_form.target.choices = [
        SelectChoice(c.id, c.name)
        for c in cohorts.cohorts_for(user, include_archived=False)
        if c.id != cohort.id
    ]
    return render_template(
        "enrollment/student.html",
        cohort=cohort,
        record=record,
        history=enrollments.enrollment_history(
            student_id, None if user.is_admin else [c.id for c in cohorts.cohorts_for(user)]
        ),
        override_form=override_form,
        move_form=move_form,
        withdraw_form=WithdrawForm(),
        action_form=ActionForm(),
    )


@bp.post("/cohorts/<int:cohort_id>/students/<int:student_id>/overrides")
@roles_required(*STAFF)
def override(cohort_id: int, student_id: int):
    """Mark a requirement met or not met for the student, or reverse an override."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    enrollment = access.get_enrollment_for(actor(), cohort, student_id)
    form = OverrideForm()
    form.key.choices = None  # validated by the service against the cohort's requirements
    form.key.validate_choice = False
    if not form.validate_on_submit():
        raise InvalidInput("Choose a requirement and a decision, and give the reason.")
    decision = {"met": True, "not_met": False, "revoke": None}[form.decision.data]
    overrides.record_override(
        actor(),
        cohort,
        enrollment,
        key=form.key.data,
        met=decision,
        reason=form.reason.data or "",
        now=utcnow(),
    )
    flash("Override recorded.", "success")
    return _back(cohort_id, student_id)


@bp.post("/cohorts/<int:cohort_id>/students/<int:student_id>/invitation")
@roles_required(*STAFF)
def resend_invitation(cohort_id: int, student_id: int):
    """Send a new invitation link to a student who has not set a password yet."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    if not ActionForm().validate_on_submit():
        raise InvalidInput("The request could not be read. Reload the page and try again.")
    student = access.get_enrollment_for(actor(), cohort, student_id).student
    invitations.resend_invitation(actor(), student, utcnow())
    message = f"A new invitation was sent to {student.email}."
    flash(message, "success")
    return _back(cohort_id, student_id)


@bp.post("/cohorts/<int:cohort_id>/students/<int:student_id>/withdraw")
@roles_required(*STAFF)
def withdraw(cohort_id: int, student_id: int):
    """Withdraw the student from the cohort (the history is kept)."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    form = WithdrawForm()
    if not form.validate_on_submit():
        raise InvalidInput("The request could not be read. Reload the page and try again.")
    enrollments.withdraw(actor(), cohort, student_id, form.reason.data or "", utcnow())
    flash("Student withdrawn. Enrol them again by email to bring them back.", "success")
    return _back(cohort_id, student_id)


@bp.post("/cohorts/<int:cohort_id>/students/<int:student_id>/move")
@roles_required(*STAFF)
def move(cohort_id: int, student_id: int):
    """Move the student to another cohort the instructor teaches."""
    user = actor()
    cohort = access.get_cohort_for(user, cohort_id)
    form = MoveForm()
    form.target.choices = [SelectChoice(c.id, c.name) for c in cohorts.cohorts_for(user)]
    if not form.validate_on_submit():
        raise InvalidInput("Choose one of your cohorts to move the student to.")
    moved = enrollments.move_student(user, cohort, student_id, form.target.data, utcnow())
    target_id, name = moved.cohort_id, moved.cohort.name
    flash(f"Moved to {name}; their completions count there too.", "success")
    return _back(target_id, student_id)


@bp.post("/cohorts/<int:cohort_id>/evidence/<int:evidence_id>")
@roles_required(*STAFF)
def decide_evidence(cohort_id: int, evidence_id: int):
    """Verify or reject a student's evidence."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    form = EvidenceDecisionForm()
    if not form.validate_on_submit():
        raise InvalidInput("The decision could not be read. Reload the page and try again.")
    evidence = service.decide_evidence(
        actor(),
        evidence_id,
        verified=bool(form.verify.data),
        reason=form.reason.data or "",
        now=utcnow(),
    )
    flash(f"Evidence {evidence.status.value}.", "success")
    return redirect(url_for("enrollment.cohort_page", cohort_id=cohort.id))
