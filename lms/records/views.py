"""The admin's export page and the completion-ledger download."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_login import current_user

from lms.auth.access import roles_required
from lms.auth.models import Role
from lms.db import utcnow
from lms.enrollment import service as enrollment
from lms.errors import InvalidInput
from lms.extensions import db
from lms.records import audit, exports

bp = Blueprint("records", __name__, url_prefix="/admin")


@bp.get("/exports")
@roles_required(Role.ADMIN)
def export_page():
    """Choose what to export."""
    return render_template(
        "records/exports.html", cohorts=enrollment.cohorts_for(current_user._get_current_object())
    )


@bp.get("/exports/completions.csv")
@roles_required(Role.ADMIN)
def export_completions_csv():
    """Download the completion ledger as CSV, optionally for one cohort."""
    actor = current_user._get_current_object()
    raw_cohort = request.args.get("cohort_id", "")
    students = None
    cohort_id = None
    if raw_cohort:
        if not raw_cohort.isdigit():
            raise InvalidInput("The cohort filter must be a cohort's number.")
        cohort = enrollment.get_cohort_for(actor, int(raw_cohort))
        cohort_id = cohort.id
        students = enrollment.student_ids_select(cohort.id)
    now = utcnow()
    audit.record_event(
        "export.completions",
        actor=actor,
        now=now,
        target_type="cohort" if cohort_id else "ledger",
        target_id=cohort_id,
        details={"format": "csv", "cohort_id": cohort_id},
    )
    db.session.commit()  # the disclosure is logged before any byte leaves
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    name = f"completions-{'cohort-' + str(cohort_id) if cohort_id else 'all'}-{stamp}.csv"
    body = exports.stream_csv(exports.completion_rows(students), exports.COMPLETION_COLUMNS)
    return Response(
        stream_with_context(body),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
