"""One student in a cohort: their record, overrides, extra time on timed quizzes, a new
invitation, withdrawing or moving them, and deciding on their evidence."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from wtforms import SelectChoice

from lms.auth.access import roles_required
from lms.courses.accommodations import accommodation_history
from lms.db import utcnow
from lms.enrollment import (
    access,
    accommodations,
    cohorts,
    enrollments,
    invitations,
    overrides,
    service,
)
from lms.enrollment.certificate_views import render_certificates_page
from lms.enrollment.forms import (
    ActionForm,
    EndExtraTimeForm,
    EnrollForm,
    EvidenceDecisionForm,
    ExtraTimeForm,
    MoveForm,
    OverrideForm,
    WithdrawForm,
)
from lms.enrollment.models import Cohort, Enrollment, EnrollmentStatus
from lms.enrollment.progress.record import student_record
from lms.enrollment.views import STAFF, actor, bp
from lms.enrollment.views.matrix import render_cohort_page
from lms.errors import Conflict, InvalidInput
from lms.forms import show_problems


def _back(cohort_id: int, student_id: int):
    return redirect(url_for("enrollment.student_page", cohort_id=cohort_id, student_id=student_id))


@bp.get("/cohorts/<int:cohort_id>/students/<int:student_id>")
@roles_required(*STAFF)
def student_page(cohort_id: int, student_id: int):
    """A student's record in the cohort: requirements, overrides, enrolment history. A
    withdrawn student's page keeps only their enrolment history: their records are no
    longer this cohort's instructors' to see."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    enrollment = access.get_enrollment_for(actor(), cohort, student_id, withdrawn=True)
    return render_record(cohort, enrollment)


def render_record(
    cohort: Cohort,
    enrollment: Enrollment,
    *,
    override_form: OverrideForm | None = None,
    move_form: MoveForm | None = None,
    extra_time_form: ExtraTimeForm | None = None,
    end_extra_time_form: EndExtraTimeForm | None = None,
    status: int = 200,
):
    """The student's record page; a refused override, move or grant of extra time brings its
    form back, each problem beside its field, with the status it was refused with."""
    user = actor()
    history = enrollments.enrollment_history(
        enrollment.student_id,
        None if user.is_admin else [c.id for c in cohorts.cohorts_for(user)],
    )
    if not access.shows_record(user, enrollment):
        return render_template(
            "enrollment/student_withdrawn.html",
            cohort=cohort,
            enrollment=enrollment,
            history=history,
        ), status
    record = student_record(cohort, enrollment, utcnow())
    override_form = override_form or OverrideForm(formdata=None)
    override_form.key.choices = [
        SelectChoice(c.key, f"{c.label}: {c.title}") for c in record.columns
    ]
    move_form = move_form or MoveForm(formdata=None)
    move_form.target.choices = [
        SelectChoice(c.id, c.name)
        for c in cohorts.cohorts_for(user, include_archived=False)
        if c.id != cohort.id
    ]
    extra_time = accommodation_history(enrollment.student_id)
    return render_template(
        "enrollment/student.html",
        cohort=cohort,
        record=record,
        history=history,
        override_form=override_form,
        move_form=move_form,
        withdraw_form=WithdrawForm(formdata=None),
        action_form=ActionForm(formdata=None),
        extra_time=extra_time,
        standing_extra_time=next((a for a in extra_time if a.ended_at is None), None),
        extra_time_form=extra_time_form or ExtraTimeForm(formdata=None),
        end_extra_time_form=end_extra_time_form or EndExtraTimeForm(formdata=None),
    ), status


@bp.post("/cohorts/<int:cohort_id>/students/<int:student_id>/overrides")
@roles_required(*STAFF)
def override(cohort_id: int, student_id: int):
    """Mark a requirement met or not met for the student, or reverse an override."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    enrollment = access.get_enrollment_for(actor(), cohort, student_id)
    form = OverrideForm()
    form.key.choices = None  # validated by the service against the cohort's requirements
    form.key.validate_choice = False
    try:
        if not form.validate_on_submit():
            raise InvalidInput("Choose a requirement and a decision, and give the reason.")
        overrides.record_override(
            actor(),
            cohort,
            enrollment,
            key=form.key.data,
            met={"met": True, "not_met": False, "revoke": None}[form.decision.data],
            reason=form.reason.data or "",
            now=utcnow(),
        )
    except InvalidInput as error:
        status = show_problems(form, error)
        return render_record(cohort, enrollment, override_form=form, status=status)
    flash("Override recorded.", "success")
    return _back(cohort_id, student_id)


@bp.post("/cohorts/<int:cohort_id>/students/<int:student_id>/extra-time")
@roles_required(*STAFF)
def grant_extra_time(cohort_id: int, student_id: int):
    """Grant or change the student's extra time on timed quizzes, with a reason."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    enrollment = access.get_enrollment_for(actor(), cohort, student_id)
    form = ExtraTimeForm()
    try:
        if not form.validate_on_submit():
            raise InvalidInput("The reason has 1,000 characters at most.", field="grant_reason")
        granted = accommodations.grant_extra_time(
            actor(),
            cohort,
            enrollment,
            multiplier=form.multiplier.data or "",
            reason=form.grant_reason.data or "",
            now=utcnow(),
        )
    except (InvalidInput, Conflict) as error:
        # a refusal about the enrolment, not a field, goes above the form
        status = show_problems(form, error, "grant_reason" if error.status_code == 400 else None)
        return render_record(cohort, enrollment, extra_time_form=form, status=status)
    flash(
        f"Extra time granted: {granted.multiplier:g} × the time limit on every timed quiz "
        f"{enrollment.student.full_name} starts from now on.",
        "success",
    )
    return _back(cohort_id, student_id)


@bp.post("/cohorts/<int:cohort_id>/students/<int:student_id>/extra-time/end")
@roles_required(*STAFF)
def end_extra_time(cohort_id: int, student_id: int):
    """End the student's extra time, with a reason."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    enrollment = access.get_enrollment_for(actor(), cohort, student_id)
    form = EndExtraTimeForm()
    try:
        if not form.validate_on_submit():
            raise InvalidInput("The reason has 1,000 characters at most.", field="end_reason")
        accommodations.end_extra_time(
            actor(), cohort, enrollment, reason=form.end_reason.data or "", now=utcnow()
        )
    except (InvalidInput, Conflict) as error:
        status = show_problems(form, error, "end_reason" if error.status_code == 400 else None)
        return render_record(cohort, enrollment, end_extra_time_form=form, status=status)
    flash("Extra time ended: quizzes started from now on have the plain time limit.", "success")
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
    """Withdraw the student from the cohort (the history is kept), or cancel an invitation
    they have not answered."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    form = WithdrawForm()
    if not form.validate_on_submit():
        raise InvalidInput("The request could not be read. Reload the page and try again.")
    was = enrollments.withdraw(actor(), cohort, student_id, form.reason.data or "", utcnow())
    if was is EnrollmentStatus.PENDING:
        flash("Invitation cancelled.", "success")
        return redirect(url_for("enrollment.cohort_page", cohort_id=cohort_id))
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
    try:
        if not form.validate_on_submit():
            raise InvalidInput("Choose one of your cohorts to move the student to.")
        moved = enrollments.move_student(user, cohort, student_id, form.target.data, utcnow())
    except InvalidInput as error:
        status = show_problems(form, error)
        enrollment = access.get_enrollment_for(user, cohort, student_id)
        return render_record(cohort, enrollment, move_form=form, status=status)
    target_id, name = moved.cohort_id, moved.cohort.name
    flash(f"Moved to {name}; their completions count there too.", "success")
    return _back(target_id, student_id)


@bp.post("/cohorts/<int:cohort_id>/evidence/<int:evidence_id>")
@roles_required(*STAFF)
def decide_evidence(cohort_id: int, evidence_id: int):
    """Verify or reject a student's evidence."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    form = EvidenceDecisionForm()
    # the certificates page lists evidence too; its forms come back there
    on_certificates = request.form.get("back") == "certificates"
    try:
        if not form.validate_on_submit():
            raise InvalidInput(
                "The decision could not be read: a reason has 1,000 characters at most.",
                field="reason",
            )
        evidence = service.decide_evidence(
            actor(),
            evidence_id,
            verified=bool(form.verify.data),
            reason=form.reason.data or "",
            now=utcnow(),
        )
    except InvalidInput as error:
        status = show_problems(form, error, "reason")
        if on_certificates:
            return render_certificates_page(
                cohort, status, decision_form=form, refused_evidence=evidence_id
            )
        return render_cohort_page(
            cohort,
            EnrollForm(formdata=None),
            status,
            decision_form=form,
            refused_evidence=evidence_id,
        )
    flash(f"Evidence {evidence.status.value}.", "success")
    page = "cohort_certificates.page" if on_certificates else "enrollment.cohort_page"
    return redirect(url_for(page, cohort_id=cohort.id))
