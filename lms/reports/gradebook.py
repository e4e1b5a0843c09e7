"""A cohort's gradebook as CSV: one row per active student, two columns per quiz (best score
and attempts graded), text cells a spreadsheet would run as formulas neutralised. The download
is an export: it is logged, with each student it discloses, before a byte leaves."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import datetime

from lms.auth.models import User
from lms.enrollment import service as enrollment
from lms.enrollment.models import Cohort
from lms.reports import export_runs
from lms.reports.exports import neutralise

STUDENT_COLUMNS = ["student_id", "student_name", "student_email"]


@dataclass(frozen=True)
class GradebookFile:
    """The CSV of a cohort's gradebook, logged as an export."""

    run_id: int
    filename: str
    body: bytes


def gradebook_csv(cohort: Cohort) -> tuple[str, int]:
    """The gradebook of every active student as RFC 4180 CSV (CRLF line ends), and its number
    of rows."""
    columns, rows = enrollment.whole_gradebook(cohort)
    header = list(STUDENT_COLUMNS)
    for quiz in columns:
        header += [f"{quiz.module_code} best score", f"{quiz.module_code} attempts"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(name) for name in header])
    for row in rows:
        cells: list[object] = [row.student.id, row.student.full_name, row.student.email]
        for grade in row.grades:
            if grade is None:
                cells += ["", 0]
            else:
                cells += ["" if grade.best is None else f"{grade.best:g}", grade.attempts]
        writer.writerow([neutralise(cell) for cell in cells])
    return buffer.getvalue(), len(rows)


def export_gradebook(actor: User, cohort: Cohort, *, channel: str, now: datetime) -> GradebookFile:
    """Log the gradebook's disclosure (the run, each active student, the audit event), build
    the CSV and record its manifest."""
    run = export_runs.log_disclosure(
        actor,
        "gradebook",
        "csv",
        {"cohort": cohort.id},
        enrollment.active_student_ids(cohort.id),
        channel=channel,
        now=now,
    )
    text, row_count = gradebook_csv(cohort)
    body = text.encode("utf-8")
    export_runs.finish_export(run.id, row_count, len(body), hashlib.sha256(body).hexdigest(), now)
    return GradebookFile(run.id, run.filename, body)
