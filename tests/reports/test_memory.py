"""Exports stream: memory stays flat whatever the number of rows."""

import tracemalloc
from datetime import timedelta

import pytest
from sqlalchemy import insert

from lms.auth.models import Role
from lms.db import utcnow
from lms.extensions import db
from lms.ledger.models import LedgerEntry, LedgerKind
from lms.reports import export_runs
from tests import factories


def add_rows(student_id: int, module_id: int, count: int) -> None:
    """Synthetic ledger rows, inserted in bulk (no ORM events: only for measuring)."""
    start = factories.NOW
    db.session.execute(
        insert(LedgerEntry),
        [
            {
                "student_id": student_id,
                "kind": LedgerKind.MODULE_COMPLETED,
                "module_id": module_id,
                "score": 70 + n % 30,
                "source": "bench",
                "source_ref": f"synthetic:{n}",
                "recorded_at": start + timedelta(seconds=n),
                "note": "x" * 40,
            }
            for n in range(count)
        ],
    )
    db.session.commit()


def peak_while_exporting(fmt: str) -> tuple[int, int]:
    admin = factories.user(Role.ADMIN)
    export = export_runs.start_export(
        admin, "completions", fmt, {}, channel="cli", now=utcnow(), base_url="http://x"
    )
    db.session.commit()
    size = 0
    tracemalloc.start()
    try:
        for chunk in export.body(lambda *args: None):
            size += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, size


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "xlsx"])
def test_peak_memory_does_not_grow_with_the_row_count(app, fmt):
    factories.course("TERM", modules=1)
    student = factories.user(Role.STUDENT)
    module_id = factories.module("TERM-1").id
    add_rows(student.id, module_id, 3000)
    small_peak, small_size = peak_while_exporting(fmt)
    add_rows(student.id, module_id, 9000)  # four times as many rows
    large_peak, large_size = peak_while_exporting(fmt)
    assert large_size > 3 * small_size
    # The output is four times as large; the memory used to make it is not.
    assert large_peak < small_peak * 1.5, (small_peak, large_peak)
