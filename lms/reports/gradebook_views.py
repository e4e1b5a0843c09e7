"""The download of a cohort's gradebook as CSV, for the cohort's instructors and admins."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_login import current_user

from lms.auth.access import roles_required
from lms.auth.models import Role
from lms.db import utcnow
from lms.enrollment import service as enrollment
from lms.reports import gradebook
from lms.transactions import writes_on_get

bp = Blueprint("gradebook_export", __name__)


@bp.get("/cohorts/<int:cohort_id>/gradebook.csv")
@roles_required(Role.INSTRUCTOR, Role.ADMIN)
@writes_on_get("the gradebook download is an export: logged, with each student it discloses")
def gradebook_csv(cohort_id: int):
    """Every active student's best score and attempts on each quiz, as CSV."""
    actor = current_user._get_current_object()
    cohort = enrollment.get_cohort_for(actor, cohort_id)
    exported = gradebook.export_gradebook(actor, cohort, channel="web", now=utcnow())
    return Response(
        exported.body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{exported.filename}"',
            "X-Export-Id": str(exported.run_id),
            "Cache-Control": "no-store",
        },
    )
