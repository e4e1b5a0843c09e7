"""A cohort's certificates page: who is ready, issuing and revoking, automatic issue, and the
real exam results its instructors record. It sits in enrollment, above credentials: the
cohort decides whose certificates an instructor may see and touch."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import SelectChoice

from lms.auth.access import roles_required
from lms.auth.models import Role
from lms.credentials import outcomes
from lms.credentials import service as credentials
from lms.credentials.forms import AutoIssueForm, ExamOutcomeForm, IssueForm, RevokeForm
from lms.db import utcnow
from lms.enrollment import service
from lms.enrollment.forms import EvidenceDecisionForm
from lms.errors import InvalidInput, NotFound, PermissionDenied
from lms.forms import show_problems

bp = Blueprint("cohort_certificates", __name__)
STAFF = (Role.INSTRUCTOR, Role.ADMIN)


def _actor():
    return current_user._get_current_object()


@bp.get("/cohorts/<int:cohort_id>/certificates")
@roles_required(*STAFF)
def page(cohort_id: int):
    """Who is ready, which certificates are issued, real exam results, evidence files."""
    cohort = service.get_cohort_for(_actor(), cohort_id)
    students = service.active_students(cohort)
    form = ExamOutcomeForm()
    form.subject_id.choices = [SelectChoice(s.id, s.full_name) for s in students]
    return _render_page(cohort, students, form)


def render_certificates_page(
    cohort,
    status: int,
    *,
    decision_form: EvidenceDecisionForm,
    refused_evidence: int,
):
    """The page with a refused evidence decision beside its evidence."""
    students = service.active_students(cohort)
    form = ExamOutcomeForm(formdata=None)
    form.subject_id.choices = [SelectChoice(s.id, s.full_name) for s in students]
    return _render_page(
        cohort,
        students,
        form,
        status,
        decision_form=decision_form,
        refused_evidence=refused_evidence,
    )


def _render_page(
    cohort,
    students,
    outcome_form,
    status: int = 200,
    *,
    decision_form: EvidenceDecisionForm | None = None,
    refused_evidence: int | None = None,
):
    ids = [s.id for s in students]
    evidence_items = credentials.evidence_of(ids)
    auto_form = AutoIssueForm()
    auto_form.enabled.data = "1" if credentials.auto_issue_settings([cohort.id])[cohort.id] else "0"
    return render_template(
        "enrollment/cohort_certificates.html",
        cohort=cohort,
        roster=credentials.certificate_roster(
            cohort.credential, students, utcnow(), cohort_id=cohort.id
        ),
        issue_form=IssueForm(),
        auto_form=auto_form,
        outcome_form=outcome_form,
        decision_form=decision_form or EvidenceDecisionForm(formdata=None),
        refused_evidence=refused_evidence,
        results=outcomes.outcomes_of(ids, cohort.credential_id),
        rate=outcomes.pass_rate(ids, cohort.credential_id),
        evidence=evidence_items,
        months={item.id: credentials.evidence_months(item) for item in evidence_items},
    ), status


def _cohort_student(cohort, student_id: object):
    for student in service.active_students(cohort):
        if str(student.id) == str(student_id):
            return student
    raise NotFound("There is no such student in this cohort.")


@bp.post("/cohorts/<int:cohort_id>/certificates/issue")
@roles_required(*STAFF)
def issue(cohort_id: int):
    """Issue one student's certificate, or every ready student's at once."""
    actor = _actor()
    cohort = service.get_cohort_for(actor, cohort_id)
    form = IssueForm()
    if not form.validate_on_submit():
        raise InvalidInput("The request could not be read. Reload the page and try again.")
    now = utcnow()
    if form.student_id.data:
        student = _cohort_student(cohort, form.student_id.data)
        credentials.issue_certificate(student, cohort.credential, actor, now, cohort_id=cohort.id)
        message = f"Certificate issued to {student.full_name}."
    else:
        students = service.active_students(cohort)
        issued = credentials.issue_to_ready_students(
            actor, cohort.credential, students, now, cohort_id=cohort.id
        )
        message = (
            f"{len(issued)} certificate{'s' if len(issued) != 1 else ''} issued."
            if issued
            else "No student is ready without a certificate already."
        )
    flash(message, "success")
    return redirect(url_for("cohort_certificates.page", cohort_id=cohort_id))


@bp.post("/cohorts/<int:cohort_id>/certificates/auto-issue")
@roles_required(*STAFF)
def auto_issue(cohort_id: int):
    """Turn automatic issue of the cohort's certificates on or off."""
    actor = _actor()
    service.get_cohort_for(actor, cohort_id)
    form = AutoIssueForm()
    if not form.validate_on_submit():
        raise InvalidInput("Choose how certificates are issued.")
    enabled = form.enabled.data == "1"
    credentials.set_auto_issue(actor, cohort_id, enabled, utcnow())
    flash(
        "Certificates are issued automatically."
        if enabled
        else "Certificates are issued only when an instructor issues them.",
        "success",
    )
    return redirect(url_for("cohort_certificates.page", cohort_id=cohort_id))


@bp.route(
    "/cohorts/<int:cohort_id>/certificates/<int:certificate_id>/revoke", methods=["GET", "POST"]
)
@roles_required(*STAFF)
def revoke(cohort_id: int, certificate_id: int):
    """Revoke a certificate of the cohort's credential held by a student active in it: a
    public reason and a private note. 404 for any other certificate; 403 in an archived
    cohort (but for an admin)."""
    actor = _actor()
    cohort = service.get_cohort_for(actor, cohort_id)
    certificate = credentials.get_certificate(certificate_id)
    if certificate.credential_id != cohort.credential_id:
        raise NotFound("There is no such certificate in this cohort.")
    student = _cohort_student(cohort, certificate.student_id)
    if cohort.is_archived and not actor.is_admin:
        raise PermissionDenied(
            f"{cohort.name} is archived: a certificate is revoked from an active cohort aimed "
            f"at {cohort.credential.code} in which its holder is enrolled, or by an admin."
        )
    form = RevokeForm()
    status = 200
    if form.validate_on_submit():
        try:
            service.revoke_certificate(
                actor,
                certificate,
                form.public_reason.data,
                form.note.data or "",
                utcnow(),
                cohort=cohort,
            )
        except InvalidInput as error:
            status = show_problems(form, error)
        else:
            flash(f"The certificate of {student.full_name} is revoked.", "success")
            return redirect(url_for("cohort_certificates.page", cohort_id=cohort_id))
    elif form.is_submitted():
        status = 400
    return render_template(
        "enrollment/revoke_certificate.html",
        cohort=cohort,
        certificate=certificate,
        student=student,
        form=form,
    ), status


@bp.post("/cohorts/<int:cohort_id>/exam-results")
@roles_required(*STAFF)
def record_result(cohort_id: int):
    """An instructor records a student's real exam result."""
    actor = _actor()
    cohort = service.get_cohort_for(actor, cohort_id)
    students = service.active_students(cohort)
    form = ExamOutcomeForm()
    form.subject_id.choices = [SelectChoice(s.id, s.full_name) for s in students]
    if not form.validate_on_submit():
        return _render_page(cohort, students, form, 400)
    student = _cohort_student(cohort, form.subject_id.data)
    try:
        outcomes.record_exam_outcome(
            actor,
            student,
            cohort.credential,
            exam_date=form.exam_date.data,
            passed=form.result.data == "passed",
            score=None if form.score.data is None else float(form.score.data),
            now=utcnow(),
        )
    except InvalidInput as error:
        return _render_page(cohort, students, form, show_problems(form, error))
    name = student.full_name
    flash(f"The exam result of {name} is recorded.", "success")
    return redirect(url_for("cohort_certificates.page", cohort_id=cohort_id))
