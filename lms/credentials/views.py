"""Public certificate verification (HTML, JSON, PDF, OB 3.0 VC-JWT, keys), students'
evidence and exam results, instructors' certificates page, admins' catalogue."""

from __future__ import annotations

import json
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user
from wtforms import SelectChoice

from lms import links
from lms.auth.access import login_required, public, roles_required
from lms.auth.models import Role
from lms.credentials import badges, outcomes, pdf, rules, service
from lms.credentials.forms import (
    AutoIssueForm,
    EvidenceForm,
    ExamOutcomeForm,
    IssueForm,
    RequirementsForm,
    RevokeForm,
)
from lms.db import utcnow
from lms.enrollment import service as enrollment
from lms.enrollment.forms import EvidenceDecisionForm
from lms.errors import InvalidInput, NotFound
from lms.extensions import db

bp = Blueprint("credentials", __name__)
STAFF = (Role.INSTRUCTOR, Role.ADMIN)


def _actor():
    return current_user._get_current_object()


def _base_url() -> str:
    return links.public_base_url()


def _storage() -> Path:
    folder = current_app.config.get("EVIDENCE_FOLDER")
    return Path(folder) if folder else Path(current_app.instance_path) / "evidence"


def signing_key() -> badges.RSAKey:
    """The school's signing key (configuration, or created once into the instance folder)."""
    key = current_app.extensions.get("lms_signing_key")
    if key is None:
        path = current_app.config.get("SIGNING_KEY_FILE") or (
            Path(current_app.instance_path) / "signing_key.pem"
        )
        key = badges.load_or_create_key(current_app.config.get("SIGNING_KEY_PEM"), Path(path))
        current_app.extensions["lms_signing_key"] = key
    return key


# --- public verification ---------------------------------------------------------------


@bp.get("/verify/<code>")
@public
def verify(code: str):
    """Anyone can check a certificate by its code: status, name, credential, dates."""
    certificate = service.get_certificate_by_code(code)
    return render_template(
        "credentials/verify.html",
        certificate=certificate,
        standing=service.public_standing(certificate, utcnow()),
        school=current_app.config["SCHOOL_NAME"],
    )


@bp.get("/verify/<code>.json")
@public
def verify_json(code: str):
    """The same check for machines: valid / revoked / expired / superseded, and nothing more."""
    certificate = service.get_certificate_by_code(code)
    standing = service.public_standing(certificate, utcnow())
    return jsonify(standing.to_data(certificate.code))


@bp.get("/verify/<code>/certificate.pdf")
@public
def certificate_pdf(code: str):
    """The printable certificate, with a QR code to its verification page."""
    certificate = service.get_certificate_by_code(code)
    verify_url = _base_url() + url_for("credentials.verify", code=certificate.code)
    body = pdf.certificate_pdf(certificate, current_app.config["SCHOOL_NAME"], verify_url)
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="certificate-{certificate.code}.pdf"'},
    )


@bp.get("/verify/<code>/credential.jwt")
@public
def credential_jwt(code: str):
    """The certificate as an Open Badges 3.0 AchievementCredential, signed as a VC-JWT."""
    certificate = service.get_certificate_by_code(code)
    issuer = badges.IssuerProfile(_base_url(), current_app.config["SCHOOL_NAME"])
    token = badges.sign_credential(
        badges.achievement_credential(certificate, issuer), signing_key()
    )
    return Response(
        token,
        mimetype="application/jwt",
        headers={"Content-Disposition": f'attachment; filename="{certificate.code}.jwt"'},
    )


@bp.get("/.well-known/jwks.json")
@public
def jwks():
    """The public keys that verify the school's signed credentials."""
    return jsonify(badges.public_jwks([signing_key()]))


# --- students: evidence and exam results ---------------------------------------------------


@bp.route("/evidence", methods=["GET", "POST"])
@roles_required(Role.STUDENT)
def evidence():
    """A student records eligibility evidence: a diploma or GED, experience, a programme."""
    student = _actor()
    form = EvidenceForm()
    status = 200
    if form.validate_on_submit():
        upload = None
        document = form.document.data
        if document and getattr(document, "filename", ""):
            content = document.stream.read(service.files.MAX_FILE_BYTES + 1)
            upload = service.Upload(content=content, filename=document.filename)
        try:
            service.submit_evidence(
                student,
                form.kind_value,
                form.detail.data,
                utcnow(),
                employer=form.employer.data,
                started_on=form.started_on.data,
                ended_on=form.ended_on.data,
                upload=upload,
                storage=_storage(),
            )
        except InvalidInput as error:
            db.session.rollback()
            form.form_errors.append(error.message)
            status = 400
        else:
            db.session.commit()
            flash("Your evidence is submitted. Your instructor will review it.", "success")
            return redirect(url_for("enrollment.dashboard"))
    elif form.is_submitted():
        status = 400
    items = service.evidence_of([student.id])
    now = utcnow()
    paths = []
    for enrolment in enrollment.active_enrollments(student):
        credential = enrolment.cohort.credential
        info = service.information_outcomes(credential, [student.id], now).get(student.id)
        if info is not None and credential.code not in {c.code for c, _ in paths}:
            paths.append((credential, info))
    return render_template(
        "credentials/evidence.html",
        form=form,
        evidence=items,
        months={item.id: service.evidence_months(item) for item in items},
        information_paths=paths,
    ), status


@bp.get("/evidence/<int:evidence_id>/file")
@login_required
def evidence_file(evidence_id: int):
    """The scan of a piece of evidence: for its student, their instructors and admins."""
    actor = _actor()
    item = service.get_evidence(evidence_id)
    allowed = item.student_id == actor.id or (
        actor.role in STAFF and enrollment.teaches_student(actor, item.student_id)
    )
    if not allowed:
        raise NotFound("There is no such evidence.")
    path = service.evidence_file(actor, item, _storage(), utcnow())
    name, content_type = item.file_name, item.file_type
    db.session.commit()
    # At most 10 MB: read whole, so no file handle outlives the request.
    response = Response(path.read_bytes(), mimetype=content_type)
    response.headers.set("Content-Disposition", "attachment", filename=name)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/exam-results", methods=["GET", "POST"])
@roles_required(Role.STUDENT)
def exam_results():
    """A student records how the real exam went."""
    student = _actor()
    form = ExamOutcomeForm()
    form.subject_id.label.text = "Exam"
    form.subject_id.choices = [
        SelectChoice(c.id, f"{c.code}: {c.name}") for c in service.list_credentials()
    ]
    status = 200
    if form.validate_on_submit():
        credential = service.get_credential(form.subject_id.data)
        outcomes.record_exam_outcome(
            student,
            student,
            credential,
            exam_date=form.exam_date.data,
            passed=form.result.data == "passed",
            score=None if form.score.data is None else float(form.score.data),
            now=utcnow(),
        )
        db.session.commit()
        flash(
            "Your result is recorded. Thank you: it helps the school and the next class.", "success"
        )
        return redirect(url_for("credentials.exam_results"))
    if form.is_submitted():
        status = 400
    return render_template(
        "credentials/exam_results.html", form=form, results=outcomes.outcomes_of([student.id])
    ), status


# --- instructors: certificates and exam results of a cohort -----------------------------------


@bp.app_template_global()
def cohort_exam_results(cohort) -> outcomes.PassRate:
    """The real exam pass rate of a cohort's students (two queries), for the cohort page."""
    ids = [s.id for s in enrollment.active_students(cohort)]
    return outcomes.pass_rate(ids, cohort.credential_id)


@bp.get("/cohorts/<int:cohort_id>/certificates")
@roles_required(*STAFF)
def cohort_certificates(cohort_id: int):
    """Who is ready, which certificates are issued, real exam results, evidence files."""
    cohort = enrollment.get_cohort_for(_actor(), cohort_id)
    students = enrollment.active_students(cohort)
    ids = [s.id for s in students]
    now = utcnow()
    readiness = service.evaluate_readiness(cohort.credential, ids, now)
    info = service.information_outcomes(cohort.credential, ids, now)
    certificates: dict[int, list] = {sid: [] for sid in ids}
    for certificate in service.certificates_of(ids):
        if certificate.credential_id == cohort.credential_id:
            certificates[certificate.student_id].append((certificate, certificate.status_at(now)))
    held = {
        sid
        for sid, items in certificates.items()
        for c, _ in items
        if c.requirement_set_id == readiness.requirement_set.id
    }
    rows = [
        {
            "student": s,
            "outcome": readiness.outcomes[s.id],
            "info": info.get(s.id),
            "certificates": certificates[s.id],
            "can_issue": readiness.outcomes[s.id].met and s.id not in held,
        }
        for s in students
    ]
    form = ExamOutcomeForm()
    form.subject_id.choices = [SelectChoice(s.id, s.full_name) for s in students]
    evidence_items = service.evidence_of(ids)
    auto_form = AutoIssueForm()
    auto_form.enabled.data = "1" if service.auto_issue_settings([cohort.id])[cohort.id] else "0"
    return render_template(
        "credentials/cohort_certificates.html",
        cohort=cohort,
        version=readiness.requirement_set.version,
        rows=rows,
        ready_to_issue=sum(1 for row in rows if row["can_issue"]),
        issue_form=IssueForm(),
        auto_form=auto_form,
        revoke_form=RevokeForm(),
        outcome_form=form,
        decision_form=EvidenceDecisionForm(),
        results=outcomes.outcomes_of(ids, cohort.credential_id),
        rate=outcomes.pass_rate(ids, cohort.credential_id),
        evidence=evidence_items,
        months={item.id: service.evidence_months(item) for item in evidence_items},
    )


def _cohort_student(cohort, student_id: object):
    for student in enrollment.active_students(cohort):
        if str(student.id) == str(student_id):
            return student
    raise NotFound("There is no such student in this cohort.")


@bp.post("/cohorts/<int:cohort_id>/certificates/issue")
@roles_required(*STAFF)
def issue(cohort_id: int):
    """Issue one student's certificate, or every ready student's at once."""
    actor = _actor()
    cohort = enrollment.get_cohort_for(actor, cohort_id)
    form = IssueForm()
    if not form.validate_on_submit():
        raise InvalidInput("The request could not be read. Reload the page and try again.")
    now = utcnow()
    if form.student_id.data:
        student = _cohort_student(cohort, form.student_id.data)
        service.issue_certificate(student, cohort.credential, actor, now)
        message = f"Certificate issued to {student.full_name}."
    else:
        students = enrollment.active_students(cohort)
        issued = service.issue_to_ready_students(actor, cohort.credential, students, now)
        message = (
            f"{len(issued)} certificate{'s' if len(issued) != 1 else ''} issued."
            if issued
            else "No student is ready without a certificate already."
        )
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("credentials.cohort_certificates", cohort_id=cohort_id))


@bp.post("/cohorts/<int:cohort_id>/certificates/auto-issue")
@roles_required(*STAFF)
def auto_issue(cohort_id: int):
    """Turn automatic issue of the cohort's certificates on or off."""
    actor = _actor()
    enrollment.get_cohort_for(actor, cohort_id)
    form = AutoIssueForm()
    if not form.validate_on_submit():
        raise InvalidInput("Choose how certificates are issued.")
    enabled = form.enabled.data == "1"
    service.set_auto_issue(actor, cohort_id, enabled, utcnow())
    db.session.commit()
    flash(
        "Certificates are issued automatically."
        if enabled
        else "Certificates are issued only when an instructor issues them.",
        "success",
    )
    return redirect(url_for("credentials.cohort_certificates", cohort_id=cohort_id))


@bp.post("/cohorts/<int:cohort_id>/certificates/<int:certificate_id>/revoke")
@roles_required(*STAFF)
def revoke(cohort_id: int, certificate_id: int):
    """Revoke a certificate of a student of the cohort, with a reason."""
    actor = _actor()
    cohort = enrollment.get_cohort_for(actor, cohort_id)
    certificate = service.get_certificate(certificate_id)
    _cohort_student(cohort, certificate.student_id)
    form = RevokeForm()
    if not form.validate_on_submit():
        raise InvalidInput("Give the reason for the revocation; the verification page shows it.")
    service.revoke_certificate(actor, certificate, form.reason.data, utcnow())
    name = certificate.student.full_name
    db.session.commit()
    flash(f"The certificate of {name} is revoked.", "success")
    return redirect(url_for("credentials.cohort_certificates", cohort_id=cohort_id))


@bp.post("/cohorts/<int:cohort_id>/exam-results")
@roles_required(*STAFF)
def record_result(cohort_id: int):
    """An instructor records a student's real exam result."""
    actor = _actor()
    cohort = enrollment.get_cohort_for(actor, cohort_id)
    students = enrollment.active_students(cohort)
    form = ExamOutcomeForm()
    form.subject_id.choices = [SelectChoice(s.id, s.full_name) for s in students]
    if not form.validate_on_submit():
        problems = [f"{form[name].label.text}: {' '.join(e)}" for name, e in form.errors.items()]
        raise InvalidInput("The result could not be recorded. " + " ".join(problems))
    student = _cohort_student(cohort, form.subject_id.data)
    outcomes.record_exam_outcome(
        actor,
        student,
        cohort.credential,
        exam_date=form.exam_date.data,
        passed=form.result.data == "passed",
        score=None if form.score.data is None else float(form.score.data),
        now=utcnow(),
    )
    name = student.full_name
    db.session.commit()
    flash(f"The exam result of {name} is recorded.", "success")
    return redirect(url_for("credentials.cohort_certificates", cohort_id=cohort_id))


# --- admins: the catalogue and requirement versions -----------------------------------------


@bp.get("/admin/credentials")
@roles_required(Role.ADMIN)
def catalogue():
    """Every credential with its facts, sources and how far they can be trusted."""
    return render_template("credentials/catalogue.html", credentials=service.list_credentials())


@bp.route("/admin/credentials/<int:credential_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def credential_page(credential_id: int):
    """A credential's facts and its requirements, edited as JSON; each save is a new version."""
    credential = service.get_credential(credential_id)
    versions = service.requirement_versions(credential)
    form = RequirementsForm()
    status = 200
    if form.validate_on_submit():
        try:
            data = json.loads(form.tree.data)
        except json.JSONDecodeError as error:
            form.tree.errors.append(
                f"This is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})."
            )
            status = 400
        else:
            try:
                saved = service.save_requirements(credential, data, _actor(), utcnow())
            except InvalidInput as error:
                db.session.rollback()
                form.tree.errors.append(error.message)
                status = 400
            else:
                version = saved.version
                db.session.commit()
                flash(
                    f"Saved as version {version} of the {credential.code} requirements.", "success"
                )
                return redirect(url_for("credentials.credential_page", credential_id=credential_id))
    elif form.is_submitted():
        status = 400
    elif versions:
        form.tree.data = json.dumps(versions[0].tree, indent=2)
    return render_template(
        "credentials/credential.html",
        credential=credential,
        versions=versions,
        form=form,
        info_path=rules.INFORMATION_PATHS.get(credential.code),
        evidence_kinds=[kind.value for kind in rules.EvidenceKind],
    ), status
