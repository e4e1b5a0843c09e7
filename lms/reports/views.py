"""The admin's export page, the downloads and their manifests, and the audit log search."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import (
    Blueprint,
    Response,
    jsonify,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from lms import links
from lms.auth.access import roles_required
from lms.auth.models import Role
from lms.courses import reads as courses
from lms.credentials import service as credentials
from lms.db import utcnow
from lms.enrollment import service as enrollment
from lms.ledger.models import LedgerKind
from lms.reports import audit_search, export_runs
from lms.reports.filters import FILTER_NAMES
from lms.reports.forms import AuditSearchForm
from lms.transactions import run_apart, writes_on_get

bp = Blueprint("reports", __name__, url_prefix="/admin")


def base_url() -> str:
    """The school's public address, for xAPI identifiers."""
    return links.public_base_url()


def stream_export(export: export_runs.Export, manifest_url: str | None = None) -> Response:
    """Stream the export; its manifest is written at the end.

    The disclosure is committed with the request's transaction before the first byte leaves
    (``lms.transactions`` commits when the view returns); the manifest, written after the
    last byte, is a transaction of its own."""
    run_id = export.run_id

    def on_done(rows: int, size: int, sha256: str) -> None:
        run_apart(lambda: export_runs.finish_export(run_id, rows, size, sha256, utcnow()))

    manifest_url = manifest_url or url_for("reports.export_manifest", run_id=run_id)
    return Response(
        stream_with_context(export.body(on_done)),
        mimetype=export.mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "X-Export-Id": str(run_id),
            "Link": f'<{manifest_url}>; rel="describedby"; type="application/json"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/exports")
@roles_required(Role.ADMIN)
def export_page():
    """Choose what to export, and see the latest exports with their manifests."""
    return render_template(
        "reports/exports.html",
        cohorts=enrollment.cohorts_for(current_user._get_current_object()),
        credentials=credentials.list_credentials(),
        courses=courses.list_courses(include_archived=True),  # their completions stay
        kinds=list(LedgerKind),
        recent=export_runs.recent_exports(),
    )


@bp.get("/exports/download")
@roles_required(Role.ADMIN)
@writes_on_get("an export is logged, with each student it discloses, before a byte leaves")
def export_download():
    """Download the completion ledger or the certificate register in the chosen format."""
    export = export_runs.start_export(
        current_user._get_current_object(),
        request.args.get("dataset", "completions"),
        request.args.get("format", "csv"),
        {name: request.args.get(name) for name in FILTER_NAMES},
        channel="web",
        now=utcnow(),
        base_url=base_url(),
    )
    return stream_export(export)


@bp.get("/exports/completions.csv")
@roles_required(Role.ADMIN)
@writes_on_get("an export is logged, with each student it discloses, before a byte leaves")
def export_completions_csv():
    """Download the completion ledger as CSV (the first export's address, kept working)."""
    raw = {name: request.args.get(name) for name in FILTER_NAMES}
    raw["cohort"] = raw.get("cohort") or request.args.get("cohort_id")
    export = export_runs.start_export(
        current_user._get_current_object(),
        "completions",
        "csv",
        raw,
        channel="web",
        now=utcnow(),
        base_url=base_url(),
    )
    return stream_export(export)


@bp.get("/exports/<int:run_id>/manifest.json")
@roles_required(Role.ADMIN)
def export_manifest(run_id: int):
    """The manifest of an export: row count, size and SHA-256 of what was produced."""
    return jsonify(export_runs.manifest(export_runs.get_export(run_id)))


@bp.get("/audit")
@roles_required(Role.ADMIN)
def audit_log():
    """Search the audit log by actor, action, target and dates, newest first; a mistake in
    the search comes back beside its field."""
    form = AuditSearchForm(request.args)
    if request.args and not form.validate():
        found = audit_search.AuditPage([], 1, False)
        return render_template("reports/audit.html", page=found, form=form, query={}), 400
    since = datetime.combine(form.from_.data, time(), UTC) if form.from_.data else None
    until = datetime.combine(form.to.data, time(), UTC) if form.to.data else None
    search = audit_search.AuditSearch(
        actor_email=(form.actor.data or "").strip() or None,
        action=(form.action.data or "").strip() or None,
        target_type=(form.target_type.data or "").strip() or None,
        target_id=(form.target_id.data or "").strip() or None,
        since=since,
        before=until + timedelta(days=1) if until else None,
    )
    found = audit_search.search_events(search, form.page.data or 1)
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("reports/audit.html", page=found, form=form, query=query)
