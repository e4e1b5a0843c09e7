"""Exports of the completion ledger and the certificate register, streamed in constant memory.

Rows are fetched in batches (``yield_per``) and written out chunk by chunk: CSV, JSON Lines,
xAPI statements (``lms.reports.xapi``) and XLSX (XlsxWriter in constant-memory mode, into a
temporary file that is then streamed, because an XLSX is a ZIP whose directory comes last)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import xlsxwriter
from sqlalchemy import Select, String, cast, literal, select
from sqlalchemy.orm import aliased

from lms.auth.models import User
from lms.courses.models import Course, Module
from lms.credentials import service as credentials
from lms.credentials.models import Certificate, Credential, ExamOutcome
from lms.enrollment import service as enrollment
from lms.extensions import db
from lms.ledger import service as ledger
from lms.ledger.models import AuditEvent, LedgerEntry, LedgerKind
from lms.reports.filters import RecordFilter, ledger_conditions
from lms.reports.xapi import VERBS, stream_xapi, xapi_statement  # noqa: F401  (the formats' home)

BATCH = 2000

COMPLETION_COLUMNS = [
    "entry_id",
    "recorded_at",
    "student_id",
    "student_email",
    "student_name",
    "kind",
    "course_code",
    "module_code",
    "module_title",
    "credential_code",
    "cohort_id",  # an override's: the cohort it was recorded in, where alone it counts
    "score",
    "source",
    "source_ref",
    "actor_email",
    "note",
]

CERTIFICATE_COLUMNS = [
    "certificate_id",
    "code",
    "student_id",
    "student_email",
    "student_name",
    "credential_code",
    "requirement_version",
    "issued_at",
    "issued_by_email",
    "status",
    "status_history",
]

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
FORMULA_FIRST_CHARACTERS = frozenset(FORMULA_TRIGGERS)
#: What spreadsheets skip before a formula: a cell that starts with these and then "=", "+",
#: "-" or "@" is run as a formula too (a space, a no-break space, a line break ...).
LEADING_BLANKS = " \t\r\n\u00a0\u1680\u202f\u205f\u3000\ufeff" + "".join(
    map(chr, range(0x2000, 0x200B))
)

FORMATS = {
    "csv": ("text/csv", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "jsonl": ("application/x-ndjson", "jsonl"),
    "xapi": ("application/json", "xapi.json"),
}

# What an xAPI statement needs beyond the completion columns: the evidence item an entry is
# about (one activity per item) and whether a real exam was passed.
XAPI_COLUMNS = ["evidence_id", "exam_passed"]


SUSPECT_FIRST = FORMULA_FIRST_CHARACTERS | frozenset(LEADING_BLANKS)


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet would run this cell as a formula (blanks before it included)."""
    first = text[:1]
    if first in FORMULA_FIRST_CHARACTERS:
        return True
    if first == "" or first not in LEADING_BLANKS:
        return False
    after = text.lstrip(LEADING_BLANKS)[:1]
    return after != "" and after in "=+-@"


def neutralise(value: Any) -> Any:
    """Defuse a text cell a spreadsheet would run as a formula, by prefixing a quote."""
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value


# --- rows --------------------------------------------------------------------------------


def completion_select(
    rf: RecordFilter | None = None,
    upto_entry_id: int | None = None,
    cells: Callable[[dict[str, Any]], list[Any]] | None = None,
    *,
    xapi: bool = False,
) -> Select:
    """The completion ledger's SELECT: one row per entry the filter keeps, oldest first.

    It selects the ``COMPLETION_COLUMNS`` (with ``xapi``, the ``XAPI_COLUMNS`` after them);
    ``cells``, given them by name, returns what to select instead (the same columns turned
    into text by ``lms.reports.export_sql``)."""
    student = aliased(User)
    actor = aliased(User)
    columns = dict(
        zip(
            COMPLETION_COLUMNS,
            [
                LedgerEntry.id,
                LedgerEntry.recorded_at,
                student.id,
                student.email,
                student.full_name,
                LedgerEntry.kind,
                Course.code,
                Module.code,
                Module.title,
                Credential.code,
                LedgerEntry.cohort_id,
                LedgerEntry.score,
                ledger.exported_source(),
                LedgerEntry.source_ref,
                actor.email,
                LedgerEntry.note,
            ],
            strict=True,
        )
    )
    query = (
        select(*(cells(columns) if cells else columns.values()))
        .select_from(LedgerEntry)
        .join(student, student.id == LedgerEntry.student_id)
        .outerjoin(Module, Module.id == LedgerEntry.module_id)
        .outerjoin(Course, Course.id == Module.course_id)
        .outerjoin(Credential, Credential.id == LedgerEntry.credential_id)
        .outerjoin(actor, actor.id == LedgerEntry.actor_id)
        .where(*ledger_conditions(rf or RecordFilter(), upto_entry_id))
        .order_by(LedgerEntry.id)
    )
    if xapi:
        # an exam result's entry names its row as "exam_outcome:<id>" (credentials.outcomes)
        exam_ref = literal("exam_outcome:") + cast(ExamOutcome.id, String)
        query = query.add_columns(LedgerEntry.evidence_id, ExamOutcome.passed).outerjoin(
            ExamOutcome,
            (LedgerEntry.kind == LedgerKind.EXAM_OUTCOME_RECORDED)
            & (LedgerEntry.source_ref == exam_ref),
        )
    return query


def completion_records(
    rf: RecordFilter | None = None,
    upto_entry_id: int | None = None,
    *,
    after_id: int | None = None,
    limit: int | None = None,
    xapi: bool = False,
) -> Iterator[dict[str, Any]]:
    """Ledger entries as dicts of native values (ids, aware datetimes, floats), oldest first,
    fetched in batches; ``after_id`` and ``limit`` give one page of them; ``xapi`` adds the
    ``XAPI_COLUMNS``."""
    names = COMPLETION_COLUMNS + XAPI_COLUMNS if xapi else COMPLETION_COLUMNS
    query = completion_select(rf, upto_entry_id, xapi=xapi).execution_options(yield_per=BATCH)
    if after_id is not None:
        query = query.where(LedgerEntry.id > after_id)
    if limit is not None:
        query = query.limit(limit)
    result = db.session.execute(query)
    try:
        for row in result:
            record = dict(zip(names, row, strict=True))
            record["kind"] = record["kind"].value
            if record["score"] is not None:
                record["score"] = float(record["score"])  # SQLite hands back 100, not 100.0
            yield record
    finally:
        result.close()  # also when the download stops early: free the server-side cursor


def certificate_select(rf: RecordFilter) -> Select:
    """The certificate register's SELECT, with the filter applied (by issue date)."""
    query = credentials.certificate_register_select()
    if rf.cohort_id is not None:
        query = query.where(Certificate.student_id.in_(enrollment.student_ids_select(rf.cohort_id)))
    if rf.student_id is not None:
        query = query.where(Certificate.student_id == rf.student_id)
    if rf.credential_id is not None:
        query = query.where(Certificate.credential_id == rf.credential_id)
    if rf.since is not None:
        query = query.where(Certificate.issued_at >= rf.since)
    if rf.before is not None:
        query = query.where(Certificate.issued_at < rf.before)
    return query


def certificate_students(rf: RecordFilter) -> Select:
    """The distinct students of the certificates a filter keeps."""
    register = certificate_select(rf).order_by(None).subquery()
    return select(register.c.student_id).distinct()


def certificate_records(rf: RecordFilter | None = None) -> Iterator[dict[str, Any]]:
    """Every certificate with its status history (from the audit log), in batches: one query
    for the certificates and one per batch for their history."""
    result = db.session.execute(
        certificate_select(rf or RecordFilter()).execution_options(yield_per=BATCH)
    )
    try:
        yield from _certificate_batches(result)
    finally:
        result.close()


def _certificate_batches(result) -> Iterator[dict[str, Any]]:
    for batch in result.partitions():
        ids = [str(row[0]) for row in batch]
        history: dict[str, list[dict[str, Any]]] = {}
        events = db.session.execute(
            select(AuditEvent.target_id, AuditEvent.action, AuditEvent.occurred_at, User.email)
            .outerjoin(User, User.id == AuditEvent.actor_id)
            .where(
                AuditEvent.target_type == "certificate",
                AuditEvent.target_id.in_(ids),
                AuditEvent.action.like("certificate.%"),
            )
            .order_by(AuditEvent.id)
        )
        for target_id, action, occurred_at, email in events:
            history.setdefault(target_id, []).append(
                {
                    "status": action.removeprefix("certificate."),
                    "at": occurred_at.isoformat(),
                    "by": email,
                }
            )
        for row in batch:
            record = dict(zip(CERTIFICATE_COLUMNS, row, strict=False))
            record["status"] = record["status"].value
            record["status_history"] = history.get(str(row[0]), [])
            yield record


# --- formats -----------------------------------------------------------------------------


def text_value(value: Any) -> Any:
    """A native value as export text: ISO timestamps, scores with two decimals."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.2f}"  # the same text on every database
    if isinstance(value, list):
        return "; ".join(
            f"{item['status']} {item['at']}" + (f" by {item['by']}" if item.get("by") else "")
            for item in value
        )
    return value


def text_row(record: dict[str, Any], columns: list[str]) -> list[Any]:
    """A record as a row of text cells."""
    return [text_value(record[name]) for name in columns]


def csv_cells(record: dict[str, Any], columns: list[str]) -> list[Any]:
    """A record as CSV cells, formulas neutralised: ``text_row`` then ``neutralise``, in one
    pass with fast paths for the common types (the hot loop of a large export)."""
    cells: list[Any] = []
    for name in columns:
        value = record[name]
        kind = type(value)
        if value is None:
            cells.append("")
        elif kind is str:
            cells.append(
                "'" + value if value[:1] in SUSPECT_FIRST and looks_like_formula(value) else value
            )
        elif kind is int:
            cells.append(value)
        else:
            cells.append(neutralise(text_value(value)))
    return cells


def json_value(value: Any) -> Any:
    """A native value for JSON."""
    return value.isoformat() if isinstance(value, datetime) else value


def stream_csv(
    rows: Iterable[list[Any]], columns: list[str], *, neutralised: bool = False
) -> Iterator[str]:
    """RFC 4180 CSV (CRLF line ends), one chunk per batch of rows, formulas neutralised
    (``neutralised`` says the rows are already)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for count, row in enumerate(rows, start=1):
        if not neutralised:
            row = ["" if value is None else neutralise(value) for value in row]
        writer.writerow(row)
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


JSON_SEPARATORS = (",", ":")  # compact: what SQLite's json_object writes (export_sql)


def stream_jsonl(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """One compact JSON object per line (LF), in chunks."""
    lines = []
    for record in records:
        values = {k: json_value(v) for k, v in record.items()}
        lines.append(json.dumps(values, ensure_ascii=False, separators=JSON_SEPARATORS))
        if len(lines) == 500:
            yield "\n".join(lines) + "\n"
            lines = []
    if lines:
        yield "\n".join(lines) + "\n"


def stream_xlsx(
    records: Iterable[dict[str, Any]], columns: list[str], sheet: str, chunk: int = 64 * 1024
) -> Iterator[bytes]:
    """An XLSX written in constant memory into a temporary file, then streamed from it.

    Text goes in with ``write_string``, so nothing is ever taken as a formula."""
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        workbook = xlsxwriter.Workbook(
            path, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        worksheet = workbook.add_worksheet(sheet)
        bold = workbook.add_format({"bold": True})
        for col, name in enumerate(columns):
            worksheet.write_string(0, col, name, bold)
        for row_number, record in enumerate(records, start=1):
            for col, name in enumerate(columns):
                value = record[name]
                if value is None:
                    continue
                if isinstance(value, bool):
                    worksheet.write_boolean(row_number, col, value)
                elif isinstance(value, int | float):
                    worksheet.write_number(row_number, col, value)
                else:
                    worksheet.write_string(row_number, col, str(text_value(value)))
        workbook.close()
        with open(path, "rb") as stream:
            while block := stream.read(chunk):
                yield block
    finally:
        os.unlink(path)


@dataclass
class Measured:
    """Counts the records that pass through it."""

    records: Iterable[dict[str, Any]]
    count: int = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for record in self.records:
            self.count += 1
            yield record


def render(
    fmt: str, records: Measured, columns: list[str], *, sheet: str, base_url: str
) -> Iterator[bytes]:
    """The bytes of an export in one of ``FORMATS``."""
    if fmt == "csv":
        chunks: Iterable[str | bytes] = stream_csv(
            (csv_cells(r, columns) for r in records), columns, neutralised=True
        )
    elif fmt == "jsonl":
        chunks = stream_jsonl(records)
    elif fmt == "xapi":
        chunks = stream_xapi(records, base_url)
    elif fmt == "xlsx":
        chunks = stream_xlsx(records, columns, sheet)
    else:  # checked by the caller
        raise ValueError(fmt)
    for chunk in chunks:
        data = chunk.encode() if isinstance(chunk, str) else chunk
        if data:
            yield data


def hashed(chunks: Iterable[bytes], on_done: Callable[[int, str], None]) -> Iterator[bytes]:
    """Pass bytes through, and when the last has gone call ``on_done(byte_count, sha256)``.

    If the consumer stops early (a dropped connection), ``on_done`` is never called, and the
    manifest keeps saying the export did not complete."""
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
        yield chunk
    on_done(size, digest.hexdigest())
