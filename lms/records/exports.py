"""Exports of the completion ledger, streamed row by row in constant memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from lms.auth.models import User
from lms.courses.models import Course, Module
from lms.credentials.models import Credential
from lms.extensions import db
from lms.records.models import LedgerEntry

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
    "score",
    "source",
    "source_ref",
    "actor_email",
    "note",
]

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Defuse a text cell a spreadsheet would run as a formula, by prefixing a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def completion_rows(students: Select | None = None) -> Iterator[list[Any]]:
    """Ledger entries as export rows, oldest first, fetched in batches.

    ``students`` is a SELECT of student ids to keep (a cohort's, say); None keeps everyone.
    """
    student = aliased(User)
    actor = aliased(User)
    query = (
        select(
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
            LedgerEntry.score,
            LedgerEntry.source,
            LedgerEntry.source_ref,
            actor.email,
            LedgerEntry.note,
        )
        .join(student, student.id == LedgerEntry.student_id)
        .outerjoin(Module, Module.id == LedgerEntry.module_id)
        .outerjoin(Course, Course.id == Module.course_id)
        .outerjoin(Credential, Credential.id == LedgerEntry.credential_id)
        .outerjoin(actor, actor.id == LedgerEntry.actor_id)
        .order_by(LedgerEntry.id)
        .execution_options(yield_per=2000)
    )
    if students is not None:
        query = query.where(LedgerEntry.student_id.in_(students))
    for row in db.session.execute(query):
        values = list(row)
        values[1] = values[1].isoformat()
        values[5] = values[5].value
        if values[10] is not None:
            values[10] = f"{values[10]:.2f}"  # the same text on every database
        yield values


def stream_csv(rows: Iterator[list[Any]], columns: list[str]) -> Iterator[str]:
    """RFC 4180 CSV (CRLF line ends), one chunk per batch of rows, formulas neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for count, row in enumerate(rows, start=1):
        writer.writerow(["" if value is None else neutralise(value) for value in row])
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
