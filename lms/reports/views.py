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
from lms.errors import InvalidInput
from lms.forms import whole_number
from lms.ledger.models import LedgerKind
from lms.reports import audit_search, export_runs
from lms.reports.filters import FILTER_NAMES
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
        courses=courses.list_courses(),
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


def _parse_day(raw: str, label: str) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.combine(datetime.strptime(raw, "%Y-%m-%d").date(), time(), UTC)
    except ValueError:
        raise InvalidInput(f"The {label} date must look like 2026-11-30.") from None


@bp.get("/audit")
@roles_required(Role.ADMIN)
def audit_log():
    """Search the audit log by actor, action, target and dates, newest first."""
    args = request.args
    since = _parse_day(args.get("from", "").strip(), "from")
    until = _parse_day(args.get("to", "").strip(), "to")
    if since and until and since > until:
        raise InvalidInput("The date range is backwards: the from date is after the to date.")
    page = whole_number(args.get("page", "1"), maximum=100_000)
    if not page:
        raise InvalidInput("The page must be a whole number from 1 to 100000.")
    search = audit_search.AuditSearch(
        actor_email=args.get("actor", "").strip() or None,
        action=args.get("action", "").strip() or None,
        target_type=args.get("target_type", "").strip() or None,
        target_id=args.get("target_id", "").strip() or None,
        since=since,
        before=until + timedelta(days=1) if until else None,
    )
    found = audit_search.search_events(search, page)
    query = {k: v for k, v in args.items() if k != "page" and v}
    return render_template("reports/audit.html", page=found, args=args, query=query)
