"""A student's eligibility evidence: the page where they submit it (beside the information
paths of the credentials their cohorts aim at), and its scan, for the student and the
instructors who teach them. Access comes from the cohort, so it sits in enrollment."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user

from lms import headers
from lms.auth.access import login_required, roles_required
from lms.auth.models import Role
from lms.credentials import service as credentials
from lms.credentials.forms import EvidenceForm
from lms.db import utcnow
from lms.enrollment import service
from lms.errors import InvalidInput, NotFound
from lms.forms import oversized_upload, show_problems, takes_uploads
from lms.transactions import writes_on_get

bp = Blueprint("evidence", __name__)
STAFF = (Role.INSTRUCTOR, Role.ADMIN)


def _actor():
    return current_user._get_current_object()


def evidence_storage() -> Path:
    """Where evidence files are kept (``LMS_EVIDENCE_FOLDER``, or ``instance/evidence``)."""
    folder = current_app.config.get("EVIDENCE_FOLDER")
    return Path(folder) if folder else Path(current_app.instance_path) / "evidence"


@bp.route("/evidence", methods=["GET", "POST"])
@roles_required(Role.STUDENT)
@takes_uploads
def evidence():
    """A student records eligibility evidence: a diploma or GED, experience, a programme."""
    student = _actor()
    form = EvidenceForm()
    status = oversized_upload(form.document) or 200
    if form.validate_on_submit():
        upload = None
        document = form.document.data
        if document and getattr(document, "filename", ""):
            content = document.stream.read(credentials.files.MAX_FILE_BYTES + 1)
            upload = credentials.Upload(content=content, filename=document.filename)
        try:
            credentials.submit_evidence(
                student,
                form.kind_value,
                form.detail.data,
                utcnow(),
                employer=form.employer.data,
                started_on=form.started_on.data,
                ended_on=form.ended_on.data,
                upload=upload,
                storage=evidence_storage(),
            )
        except InvalidInput as error:
            status = show_problems(form, error)
        else:
            flash("Your evidence is submitted. Your instructor will review it.", "success")
            return redirect(url_for("enrollment.dashboard"))
    elif form.is_submitted():
        status = 400
    items = credentials.evidence_of([student.id])
    paths = credentials.information_outcomes(
        [enrolment.cohort.credential for enrolment in service.active_enrollments(student)],
        student.id,
        utcnow(),
    )
    return render_template(
        "enrollment/evidence.html",
        form=form,
        evidence=items,
        months={item.id: credentials.evidence_months(item) for item in items},
        information_paths=paths,
    ), status


@bp.get("/evidence/<int:evidence_id>/file")
@login_required
@writes_on_get("every download of a student's evidence file is audited")
def evidence_file(evidence_id: int):
    """The scan of a piece of evidence: for its student, their instructors and admins."""
    actor = _actor()
    item = credentials.get_evidence(evidence_id)
    allowed = item.student_id == actor.id or (
        actor.role in STAFF and service.teaches_student(actor, item.student_id)
    )
    if not allowed:
        raise NotFound("There is no such evidence.")
    path = credentials.evidence_file(actor, item, evidence_storage(), utcnow())
    name, content_type = item.file_name, item.file_type
    # At most 10 MB: read whole, so no file handle outlives the request.
    response = Response(path.read_bytes(), mimetype=content_type)
    response.headers.set("Content-Disposition", "attachment", **headers.download_names(name))
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
