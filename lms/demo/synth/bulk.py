"""Bulk loading for ``synth``: millions of rows in the current transaction, fast.

Rows go through the session's own connection, so they commit or roll back with the rest of
the command: PostgreSQL gets them by ``COPY ... FROM STDIN``, SQLite by ``executemany`` on
the raw cursor. Values are given as the database stores them (see ``BulkWriter.ts``), which
skips SQLAlchemy's per-value processing: that is what makes a million rows take seconds."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from lms.extensions import db

#: Parents before children, so foreign keys hold at every flush.
TABLE_ORDER = [
    "user_account",
    "cohort",
    "cohort_instructor",
    "enrollment",
    "enrollment_event",
    "evidence",
    "attempt",
    "time_on_task",
    "certificate",
    "certificate_event",
    "exam_outcome",
    "ledger_entry",
]


class BulkWriter:
    """Collects rows per table and writes them in large batches, parents first.

    Ids are handed out here (``next_id``), so rows can refer to each other before they are
    written; ``finish`` writes the rest and moves PostgreSQL's sequences past them."""

    def __init__(self, session: Session, batch: int = 50_000) -> None:
        self.connection = session.connection()
        self.dialect = self.connection.dialect.name
        self.batch = batch
        self.columns: dict[str, tuple[str, ...]] = {}
        self.pending: dict[str, list[tuple]] = {}
        self.written: Counter[str] = Counter()
        self._ids: dict[str, int] = {}
        self._pending_count = 0
        # Timestamps are naive UTC; PostgreSQL's timestamptz columns are told the zone.
        self._zone = "+00" if self.dialect == "postgresql" else ""

    def ts(self, moment: datetime) -> str:
        """A naive UTC timestamp as the database stores it (the form SQLAlchemy writes)."""
        return moment.isoformat(" ", "microseconds") + self._zone

    @staticmethod
    def day(value: date) -> str:
        return value.isoformat()

    @staticmethod
    def json(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"))

    def declare(self, table: str, columns: tuple[str, ...]) -> None:
        """Name the columns that ``add`` gives values for, in order."""
        table_columns = db.metadata.tables[table].c
        if table not in TABLE_ORDER or any(name not in table_columns for name in columns):
            raise ValueError(f"not a bulk table and its columns: {table} {columns}")
        self.columns[table] = columns
        self.pending.setdefault(table, [])

    def next_id(self, table: str) -> int:
        """A fresh primary key for ``table``, above every id it holds."""
        if table not in self._ids:
            highest = self.connection.execute(select(func.max(db.metadata.tables[table].c.id)))
            self._ids[table] = highest.scalar() or 0
        self._ids[table] += 1
        return self._ids[table]

    def add(self, table: str, row: tuple) -> None:
        self.pending[table].append(row)
        self._pending_count += 1
        if self._pending_count >= self.batch:
            self.flush()

    def flush(self) -> None:
        """Write every pending row, parents first."""
        for table in sorted(self.pending, key=TABLE_ORDER.index):
            rows = self.pending[table]
            if rows:
                self._write(table, self.columns[table], rows)
                self.written[table] += len(rows)
                self.pending[table] = []
        self._pending_count = 0

    def finish(self) -> Counter[str]:
        """Write what is left; on PostgreSQL, set each sequence to its table's highest id."""
        self.flush()
        if self.dialect == "postgresql":
            for table in self._ids:
                # Table names are TABLE_ORDER's own (declare refuses others), never input.
                highest = f"(SELECT coalesce(max(id), 1) FROM {table})"  # noqa: S608  # nosec B608
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                self.connection.execute(text(f"SELECT setval({sequence}, {highest})"))
        return self.written

    def _write(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        raw = self.connection.connection.dbapi_connection
        names = ", ".join(columns)
        cursor = raw.cursor()
        try:
            if self.dialect == "postgresql":
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in columns)
                insert = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608  # nosec B608
                cursor.executemany(insert, rows)
        finally:
            cursor.close()
