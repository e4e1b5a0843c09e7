"""Export use cases: check the request, log the disclosure, stream the bytes, keep a manifest.

An export is refused (``InvalidInput``) before anything is written when its format or filters
are wrong. Otherwise an ``ExportRun`` row, one ``ExportDisclosure`` row per student disclosed
and an audit event are written in the caller's transaction, which commits before any byte
leaves. When the last byte has been produced, ``finish_export`` stores the row count, size and
SHA-256: the manifest. A download cut off on the way is detected by comparing the file
against the manifest; one the server never finished has a manifest that says so."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, literal, select
from sqlalchemy.orm import selectinload

from lms.auth.models import User
from lms.errors import InvalidInput, NotFound
from lms.extensions import db
from lms.ledger import audit
from lms.ledger.models import LedgerEntry
from lms.reports import export_sql, exports
from lms.reports.filters import FILTER_NAMES, ledger_students, parse_filters
from lms.reports.models import ExportDisclosure, ExportRun, ExportStatus

DATASETS = {
    "completions": {"columns": exports.COMPLETION_COLUMNS, "filters": FILTER_NAMES},
    "certificates": {
        "columns": exports.CERTIFICATE_COLUMNS,
        "filters": ("cohort", "credential", "student", "from", "to"),
        "formats": ("csv", "xlsx", "jsonl"),
    },
}


@dataclass
class Export:
    """An export whose disclosure is logged; iterate ``body`` for its bytes."""

    run_id: int
    filename: str
    mimetype: str
    body: Callable[[Callable[[int, int, str], None]], Iterator[bytes]]


def start_export(
    actor: User | None,
    dataset: str,
    fmt: str,
    raw_filters: Mapping[str, Any],
    *,
    channel: str,
    now: datetime,
    base_url: str,
) -> Export:
    """Check an export request, log what it discloses, and return its (lazy) body."""
    spec = DATASETS.get(dataset)
    if spec is None:
        raise NotFound("There is no such export.")
    formats = spec.get("formats", tuple(exports.FORMATS))
    problems = []
    if fmt not in formats:
        problems.append(f"The format must be one of {', '.join(formats)}, not “{fmt[:20]}”.")
    try:
        rf = parse_filters(actor, raw_filters, allow=spec["filters"])
    except InvalidInput as error:
        problems.append(error.message)
        rf = None
    if problems or rf is None:
        raise InvalidInput(" ".join(problems))

    if dataset == "completions":
        upto = db.session.scalar(select(func.max(LedgerEntry.id)))
        students = ledger_students(rf, upto)
    else:
        upto = None
        students = exports.certificate_students(rf)
    run = log_disclosure(
        actor, dataset, fmt, rf.described, students, channel=channel, now=now, upto_entry_id=upto
    )
    mimetype, _ = exports.FORMATS[fmt]
    columns = spec["columns"]

    def body(on_done: Callable[[int, int, str], None]) -> Iterator[bytes]:
        source: exports.Measured | export_sql.LedgerText
        if dataset == "completions" and export_sql.handles(fmt):
            source = export_sql.LedgerText(fmt, rf, upto)  # the database writes the text
            chunks: Iterable[bytes] = source
        else:
            source = exports.Measured(
                exports.completion_records(rf, upto, xapi=fmt == "xapi")
                if dataset == "completions"
                else exports.certificate_records(rf)
            )
            chunks = exports.render(fmt, source, columns, sheet=dataset, base_url=base_url)
        yield from exports.hashed(chunks, lambda size, sha: on_done(source.count, size, sha))

    return Export(run.id, run.filename, mimetype, body)


def log_disclosure(
    actor: User | None,
    dataset: str,
    fmt: str,
    described: dict[str, Any],
    students: Any,
    *,
    channel: str,
    now: datetime,
    upto_entry_id: int | None = None,
) -> ExportRun:
    """Write the export's row, the students it discloses (a SELECT of ids, copied in the
    database, so memory stays flat) and the audit event."""
    run = ExportRun(
        dataset=dataset,
        format=fmt,
        filters=described,
        channel=channel,
        actor_id=actor.id if actor else None,
        upto_entry_id=upto_entry_id,
        status=ExportStatus.STARTED,
        started_at=now,
        filename="",
    )
    db.session.add(run)
    db.session.flush()
    _, extension = exports.FORMATS.get(fmt, (None, fmt))
    run.filename = f"{dataset}-{run.id}-{now.strftime('%Y%m%dT%H%M%SZ')}.{extension}"
    subquery = students.subquery()
    db.session.execute(
        insert(ExportDisclosure).from_select(
            ["export_id", "student_id"], select(literal(run.id), subquery.c[0])
        )
    )
    run.student_count = db.session.scalar(
        select(func.count()).where(ExportDisclosure.export_id == run.id)
    )
    db.session.flush()
    audit.record_event(
        f"export.{dataset}",
        actor=actor,
        now=now,
        target_type="export",
        target_id=run.id,
        details={
            "format": fmt,
            "filters": described,
            "channel": channel,
            "student_count": run.student_count,
        },
    )
    return run


def finish_export(run_id: int, row_count: int, byte_count: int, sha256: str, now: datetime):
    """Record the manifest of an export whose last byte has been produced."""
    run = db.session.get(ExportRun, run_id)
    run.status = ExportStatus.COMPLETE
    run.completed_at = now
    run.row_count = row_count
    run.byte_count = byte_count
    run.sha256 = sha256
    db.session.flush()
    return run


def get_export(run_id: int) -> ExportRun:
    """One export with its actor, or ``NotFound``."""
    run = db.session.scalar(
        select(ExportRun).where(ExportRun.id == run_id).options(selectinload(ExportRun.actor))
    )
    if run is None:
        raise NotFound("There is no such export.")
    return run


def manifest(run: ExportRun) -> dict[str, Any]:
    """What an export contained: compare a downloaded file's SHA-256 and rows against it."""
    complete = run.status is ExportStatus.COMPLETE
    return {
        "export_id": run.id,
        "dataset": run.dataset,
        "format": run.format,
        "filename": run.filename,
        "filters": run.filters,
        "channel": run.channel,
        "exported_by": run.actor.email if run.actor else None,
        "started_at": run.started_at.isoformat(),
        "status": run.status.value,
        "complete": complete,
        "completed_at": run.completed_at.isoformat() if run.completed_at else None,
        "row_count": run.row_count,
        "byte_count": run.byte_count,
        "sha256": run.sha256,
        "students_disclosed": run.student_count,
        "columns": DATASETS.get(run.dataset, {}).get("columns"),
    }


def recent_exports(limit: int = 20) -> list[ExportRun]:
    """The newest exports, with who made them."""
    return list(
        db.session.scalars(
            select(ExportRun)
            .options(selectinload(ExportRun.actor))
            .order_by(ExportRun.id.desc())
            .limit(limit)
        )
    )


def disclosures_of(student: User, limit: int = 200) -> list[ExportRun]:
    """The exports that disclosed a student's records, newest first: their disclosure log."""
    return list(
        db.session.scalars(
            select(ExportRun)
            .join(ExportDisclosure, ExportDisclosure.export_id == ExportRun.id)
            .where(ExportDisclosure.student_id == student.id)
            .options(selectinload(ExportRun.actor))
            .order_by(ExportRun.id.desc())
            .limit(limit)
        )
    )
