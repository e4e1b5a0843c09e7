"""Transcripts (a student's own; admins and the student's instructors too) and a student's
disclosure log: who exported their records, and when."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, current_app, render_template
from flask_login import current_user
from sqlalchemy import literal, select

from lms.auth.access import login_required, roles_required
from lms.auth.models import Role
from lms.db import utcnow
from lms.reports import export_runs, transcript
from lms.transactions import writes_on_get

bp = Blueprint("transcripts", __name__)


def _disclose(student_id: int, fmt: str, body: bytes, now) -> int:
    """Log the transcript as an export of one student's records, complete with its hash."""
    run = export_runs.log_disclosure(
        current_user._get_current_object(),
        "transcript",
        fmt,
        {"student": student_id},
        select(literal(student_id)),
        channel="web",
        now=now,
    )
    export_runs.finish_export(run.id, 1, len(body), hashlib.sha256(body).hexdigest(), now)
    return run.id


@bp.get("/transcripts/<int:student_id>")
@login_required
@writes_on_get("showing a transcript discloses a student's records: logged as an export")
def transcript_page(student_id: int):
    """A student's transcript as a page."""
    now = utcnow()
    student = transcript.student_for_transcript(current_user._get_current_object(), student_id)
    page = render_template(
        "reports/transcript.html", transcript=transcript.build_transcript(student, now)
    )
    _disclose(student.id, "html", page.encode(), now)
    return page


@bp.get("/transcripts/<int:student_id>.pdf")
@login_required
@writes_on_get("a transcript PDF discloses a student's records: logged as an export")
def transcript_pdf(student_id: int):
    """A student's transcript as a PDF download."""
    now = utcnow()
    student = transcript.student_for_transcript(current_user._get_current_object(), student_id)
    pdf = transcript.render_pdf(
        transcript.build_transcript(student, now), current_app.config["SCHOOL_NAME"]
    )
    run_id = _disclose(student.id, "pdf", pdf, now)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="transcript-{student_id}.pdf"',
            "X-Export-Id": str(run_id),
        },
    )


@bp.get("/my/records/disclosures")
@roles_required(Role.STUDENT)
def my_disclosures():
    """Who has exported my records, when, in what format and by which channel."""
    student = current_user._get_current_object()
    return render_template(
        "reports/disclosures.html", runs=export_runs.disclosures_of(student), student=student
    )
