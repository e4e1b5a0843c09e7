"""The cohort page: students x requirements with at-risk flags, a page at a time, and the
chart of the cohort's progress over time."""

from __future__ import annotations

from flask import Response, current_app, render_template, request

from lms.auth.access import roles_required
from lms.db import utcnow
from lms.enrollment import access, paging
from lms.enrollment.forms import EnrollForm, EvidenceDecisionForm
from lms.enrollment.models import Cohort
from lms.enrollment.progress import matrix
from lms.enrollment.progress.chart import progress_chart as chart_of
from lms.enrollment.progress.cohort_page import cohort_page as page_of
from lms.enrollment.views import STAFF, actor, bp, risk_policy

DEFAULT_MATRIX_PAGE_SIZE = 50  # students a page of the cohort matrix


@bp.get("/cohorts/<int:cohort_id>")
@roles_required(*STAFF)
def cohort_page(cohort_id: int):
    """Students x requirements with at-risk flags, a page at a time (the counts, filters and
    sorts cover the whole cohort), upcoming exams and evidence to review."""
    return render_cohort_page(access.get_cohort_for(actor(), cohort_id), EnrollForm())


def render_cohort_page(
    cohort: Cohort,
    enroll_form: EnrollForm,
    status: int = 200,
    *,
    decision_form: EvidenceDecisionForm | None = None,
    refused_evidence: int | None = None,
):
    """The cohort page as its query string asks (filter, sort, search, page), from the
    cohort's read model (see ``lms.enrollment.progress.cohort_page``); a refused enrolment or
    evidence decision brings its form back, each problem beside its field, with the status it
    was refused with."""
    show = request.args.get("show", "all")
    sort = request.args.get("sort", "name")
    show = show if show in matrix.FILTERS else "all"
    sort = sort if sort in matrix.SORTS else "name"
    search = request.args.get("q", "")[:100]
    asked = request.args.get("page")
    page = paging.parse_page(asked)
    per_page = int(current_app.config.get("MATRIX_PAGE_SIZE", DEFAULT_MATRIX_PAGE_SIZE))
    result, shown = page_of(
        cohort,
        show=show,
        sort=sort,
        search=search,
        page=page or 0,
        per_page=per_page,
        now=utcnow(),
        default_policy=risk_policy(),
    )
    notice = None
    if page is None:
        status = 400
        notice = f"“{asked[:20]}” is not a page number: pages are numbered 1, 2, 3 …"
    elif not shown.window.exists:
        status = 404
        pages = shown.window.pages
        notice = (
            f"There is no page {page}: the students shown here fill "
            f"{pages} page{'s' if pages != 1 else ''}."
        )
    return render_template(
        "enrollment/cohort.html",
        progress=result,
        matrix=shown,
        notice=notice,
        exam=result.exam,
        show=show,
        search=search,
        sort=sort,
        filters=matrix.FILTERS,
        sorts=matrix.SORTS,
        enroll_form=enroll_form,
        decision_form=decision_form or EvidenceDecisionForm(formdata=None),
        refused_evidence=refused_evidence,
    ), status


@bp.get("/cohorts/<int:cohort_id>/progress.svg")
@roles_required(*STAFF)
def progress_chart(cohort_id: int):
    """The cohort's share ready and median completion over time, as SVG."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    _, svg = chart_of(cohort, utcnow())
    return Response(svg, mimetype="image/svg+xml")
