"""The completion ledger's CSV and JSON Lines, written by the database itself.

Made in Python, a big export spends its time on objects (ORM rows, dicts, aware datetimes,
lists of cells, the csv writer): some 10 µs a row. Here the SELECT hands back each row's
text ready-made (ISO 8601 times, scores with two decimals, JSON values quoted) and Python
only checks it, hashes it and sends it on, a batch at a time:

- PostgreSQL streams ``COPY (SELECT ...) TO STDOUT``. In CSV, COPY quotes the cells by the
  rule of Python's csv module (a cell holding a comma, a double quote, CR or LF is quoted).
  JSON Lines come in COPY's text format, which changes nothing in a JSON line but its
  backslashes (doubled: they are halved back here).
- SQLite makes each CSV line with ``printf``, cells unquoted. A batch in which no cell holds
  a comma, a double quote, CR or LF goes out as it is (counted over the batch at once). Its
  JSON lines come from ``json_object``, which quotes and escapes as json.dumps does.

In both, a cell that starts like a formula (``exports.FORMULA_TRIGGERS``) is looked for over
the whole batch: first a comma followed by a byte such a cell can start with, which most
batches do not hold, then, where one does, the full regular expression. The rare line that
has one, that needs quotes on SQLite, or that holds an empty string on PostgreSQL (COPY
writes it as ``""``), is written again from its cells by the csv module, as
``exports.csv_cells`` does. Doing that in SQL, per cell, cost a quarter of the time of the
whole export.

The bytes are those ``exports.stream_csv`` and ``exports.stream_jsonl`` write from the ORM's
rows, on both databases (``tests/reports/test_export_sql.py`` compares them), so neither the
file nor its manifest depends on the path taken or on the database."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    LargeBinary,
    Numeric,
    Select,
    Text,
    case,
    cast,
    func,
    literal,
)
from sqlalchemy.engine import Connection

from lms.db import UTCDateTime
from lms.extensions import db
from lms.ledger.models import LedgerEntry
from lms.reports.exports import (
    COMPLETION_COLUMNS,
    FORMULA_TRIGGERS,
    LEADING_BLANKS,
    completion_select,
    neutralise,
)
from lms.reports.filters import RecordFilter

FORMATS = ("csv", "jsonl")
BATCH = 2000  # rows a chunk: some 350 KB of CSV

SEPARATORS = len(COMPLETION_COLUMNS) - 1


def _formula_cell() -> re.Pattern[bytes]:
    """Where a CSV line has a cell, after the first, that starts like a formula (the first is
    the entry number), quoted or not.

    A CR that starts a cell puts it in quotes (COPY) or shows in the count of CRs (SQLite's
    plain lines): unquoted, a CR after a separator is the line end after an empty cell."""
    quoted = re.escape("".join(FORMULA_TRIGGERS).encode())
    unquoted = re.escape("".join(FORMULA_TRIGGERS).replace("\r", "").replace("\n", "").encode())
    # Blanks a spreadsheet skips before a formula (``exports.LEADING_BLANKS``), as UTF-8.
    blanks = b"(?:" + b"|".join(re.escape(c.encode()) for c in LEADING_BLANKS) + b")*"
    plain_blanks = (
        b"(?:" + b"|".join(re.escape(c.encode()) for c in LEADING_BLANKS if c not in "\r\n") + b")*"
    )
    return re.compile(
        b',(?:"' + blanks + b"[" + quoted + b"]|" + plain_blanks + b"[" + unquoted + b"])"
    )


FORMULA_CELL = _formula_cell()


def _candidate_cell() -> re.Pattern[bytes]:
    """A comma followed by any byte a match of ``FORMULA_CELL`` can start its cell with: a
    double quote, or the first byte (in UTF-8) of a trigger or a blank. Most commas are
    followed by a digit or a letter, so this one-byte class finds nothing in most batches,
    about nine times faster than ``FORMULA_CELL`` (0.3 against 2.6 ms for 2,000 ledger
    lines), which is searched only where it finds one."""
    starts = {b'"'[0]} | {c.encode()[0] for c in FORMULA_TRIGGERS + tuple(LEADING_BLANKS)}
    return re.compile(b",[" + b"".join(re.escape(bytes([b])) for b in sorted(starts)) + b"]")


CANDIDATE_CELL = _candidate_cell()


def formula_cell(data: bytes) -> bool:
    """Whether a CSV cell after the first starts like a formula (``FORMULA_CELL``)."""
    return CANDIDATE_CELL.search(data) is not None and FORMULA_CELL.search(data) is not None


# An empty string from COPY, or a quoted cell that starts with a double quote.
EMPTY_STRING = b',""'


# --- the cells in SQL ------------------------------------------------------------------------


class SQLiteSpelling:
    """The SQL that turns a ledger value into its export text on SQLite."""

    @staticmethod
    def timestamp(column: Any) -> Any:
        # Stored as naive UTC text, "2026-11-02 15:30:00.000000" (or without the fraction);
        # isoformat() leaves out a fraction of zero.
        iso = func.replace(func.replace(column, " ", "T"), ".000000", "", type_=Text)
        return iso + "+00:00"

    @staticmethod
    def score(column: Any) -> Any:
        return case((column.is_not(None), func.printf("%.2f", column)))

    @staticmethod
    def text(column: Any) -> Any:
        return column  # printf writes NULL and "" alike, as nothing

    @staticmethod
    def json_object(columns: dict[str, Any]) -> Any:
        # SQLite's json_object writes the line itself, in C, as json.dumps with compact
        # separators does: strings quoted and escaped alike, NULL as null, a REAL with one
        # decimal at least (70.0, 85.5, 66.67: Python's repr of a score rounded to two).
        # printf with json_quote for each cell took twice as long.
        values = []
        for name, column in columns.items():
            if isinstance(column.type, UTCDateTime):
                value = SQLiteSpelling.timestamp(column)
            elif isinstance(column.type, Numeric):
                value = cast(column, Float)
            else:
                value = column
            values += [literal(name, Text), value]
        return func.json_object(*values, type_=Text)

    @staticmethod
    def line(template: str, values: list[Any]) -> Any:
        """``template`` with each %s replaced by the next value (NULL by nothing)."""
        return func.printf(template, *values, type_=Text)


class PostgresSpelling:
    """The SQL that turns a ledger value into its export text on PostgreSQL."""

    @staticmethod
    def timestamp(column: Any) -> Any:
        text = func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US')
        return func.replace(text, ".000000", "", type_=Text) + "+00:00"

    @staticmethod
    def score(column: Any) -> Any:
        return func.to_char(column, "FM999999990.00", type_=Text)

    @staticmethod
    def text(column: Any) -> Any:
        # COPY writes NULL as nothing but "" as "" (the csv module: both as nothing); such
        # lines are written again (copied_chunk). NULLIF here cost a third of the COPY.
        return column

    @staticmethod
    def json_number(column: Any) -> Any:
        # "0.09": one decimal always, the second when it is not 0 (70.0, 85.5, 66.67).
        return func.coalesce(func.to_char(column, "FM999999990.09"), "null")

    @staticmethod
    def json_string(text: Any) -> Any:
        return func.coalesce(cast(func.to_json(text), Text), "null")

    @staticmethod
    def json_object(columns: dict[str, Any]) -> Any:
        # Written out piece by piece: row_to_json gives the same text but took 4.0 s for a
        # million rows against 2.8 s.
        values = []
        for column in columns.values():
            if isinstance(column.type, Integer):
                values.append(func.coalesce(cast(column, Text), "null"))
            elif isinstance(column.type, UTCDateTime):
                values.append(PostgresSpelling.json_string(PostgresSpelling.timestamp(column)))
            elif isinstance(column.type, Numeric):
                values.append(PostgresSpelling.json_number(column))
            else:
                values.append(PostgresSpelling.json_string(column))
        template = "{" + ",".join(f"{json.dumps(name)}:%s" for name in columns) + "}"
        return PostgresSpelling.line(template, values)

    @staticmethod
    def line(template: str, values: list[Any]) -> Any:
        """``template`` with each %s replaced by the next value (never NULL here)."""
        parts = template.split("%s")
        line: Any = literal(parts[0], Text)
        for value, part in zip(values, parts[1:], strict=True):
            line = line + value + part
        return line


SPELLINGS = {"sqlite": SQLiteSpelling, "postgresql": PostgresSpelling}


def csv_cells(columns: dict[str, Any], spelling: Any) -> list[Any]:
    """Each column as the text of its CSV cell, before any formula is guarded: numbers as
    they are, times in ISO 8601, scores with two decimals."""
    cells = []
    for name, column in columns.items():
        if isinstance(column.type, Integer):
            cell = column
        elif isinstance(column.type, UTCDateTime):
            cell = spelling.timestamp(column)
        elif isinstance(column.type, Numeric):
            cell = spelling.score(column)
        else:
            cell = spelling.text(column)
        cells.append(cell.label(name))
    return cells


def json_line(columns: dict[str, Any], spelling: Any) -> Any:
    """Each row as one JSON object, as ``exports.stream_jsonl`` writes it with json.dumps:
    the columns in order, compact, ids and scores as numbers, times as ISO 8601 strings."""
    return spelling.json_object(columns).label("line")


def inline_sql(query: Select, connection: Connection) -> str:
    """The statement's SQL with its values written in (COPY takes no parameters; SQLite's
    lines are made the same way, for one path).

    The values are the filter's: numbers, dates and ledger kinds, each rendered by its
    column's type, so no text from a request is pasted into the SQL."""
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    if connection.dialect.paramstyle in ("format", "pyformat"):
        # SQLAlchemy writes % as %% for a driver that fills in parameters; none will.
        sql = sql.replace("%%", "%")
    return sql


# --- checking the lines ----------------------------------------------------------------------


def plain_csv(data: bytes, lines: int) -> bool:
    """Whether unquoted CSV lines (SQLite's) are the CSV itself: no cell holds a double
    quote, a comma, CR or LF (which the csv module puts in quotes), none starts like a
    formula."""
    return (
        b'"' not in data
        and data.count(b",") == SEPARATORS * lines
        and data.count(b"\r") == data.count(b"\n") == lines
        and not formula_cell(data)
    )


def guarded_line(cells: Sequence[Any]) -> bytes:
    """A CSV line written by the csv module, formulas neutralised, as ``exports.stream_csv``
    writes the cells of ``exports.csv_cells``."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([neutralise(cell) for cell in cells])
    return buffer.getvalue().encode()


def entry_id(line: bytes) -> int:
    """The entry number of a CSV line: its first cell."""
    return int(line[: line.index(b",")])


# --- streaming -------------------------------------------------------------------------------


def handles(fmt: str) -> bool:
    """Whether the database at hand can write this format of the ledger itself."""
    return fmt in FORMATS and db.session.get_bind().dialect.name in SPELLINGS


@dataclass
class LedgerText:
    """The ledger's CSV or JSON Lines as bytes, in chunks of ``BATCH`` rows; ``count`` is
    the number of rows produced so far."""

    fmt: str
    rf: RecordFilter
    upto_entry_id: int | None
    count: int = 0

    def __iter__(self) -> Iterator[bytes]:
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            chunks = copy_out(connection, self.fmt, self.rf, self.upto_entry_id)
        else:
            chunks = sqlite_lines(connection, self.fmt, self.rf, self.upto_entry_id)
        if self.fmt == "csv":
            yield (",".join(COMPLETION_COLUMNS) + "\r\n").encode()  # plain names
        for rows, data in chunks:
            self.count += rows
            yield data


def copy_out(
    connection: Connection, fmt: str, rf: RecordFilter, upto_entry_id: int | None
) -> Iterator[tuple[int, bytes]]:
    """PostgreSQL: (rows, bytes) chunks streamed from COPY."""
    if fmt == "csv":
        query = completion_select(rf, upto_entry_id, lambda c: csv_cells(c, PostgresSpelling))
        options = "FORMAT csv"
    else:
        query = completion_select(rf, upto_entry_id, lambda c: [json_line(c, PostgresSpelling)])
        options = "FORMAT text"
    sql = inline_sql(query, connection)
    statement = f"COPY ({sql}) TO STDOUT WITH ({options}, ENCODING 'UTF8')"
    driver = connection.connection.driver_connection
    # A download stopped early cancels the COPY, which aborts the transaction: rolling back
    # to the savepoint leaves it usable (for the manifest, say).
    with connection.begin_nested(), driver.cursor() as cursor, cursor.copy(statement) as copy:
        read = copy.read
        rows: list[bytes] = []
        # COPY sends each row by itself, ending with LF. bytes, not the memoryview: a batch
        # of those would keep the garbage collector busy walking the app's objects.
        while row := read():
            rows.append(bytes(row))
            if len(rows) == BATCH:
                yield len(rows), copied_chunk(fmt, rows)
                rows = []
        if rows:
            yield len(rows), copied_chunk(fmt, rows)


def copied_chunk(fmt: str, rows: list[bytes]) -> bytes:
    """Rows from COPY (each ending with LF) as export bytes.

    In JSON Lines only the backslashes COPY's text format doubled need halving: JSON has left
    no control character in a string, and no tab in a line. CSV lines end with CRLF, as RFC
    4180 has them (with no double quote in the batch, no cell is quoted and every LF ends a
    line). A CSV line with a cell that starts like a formula, or an empty string (which
    COPY writes as "", the csv module as nothing), is written again from its cells."""
    data = b"".join(rows)
    if fmt == "jsonl":
        return data.replace(b"\\\\", b"\\")
    if b'"' in data:
        data = b"".join(row[:-1] + b"\r\n" for row in rows)
    else:
        data = data.replace(b"\n", b"\r\n")
    if not (EMPTY_STRING in data or formula_cell(data)):
        return data
    return b"".join(
        guarded_line(next(csv.reader(io.StringIO(row.decode(), newline=""))))
        if FORMULA_CELL.search(row) or EMPTY_STRING in row
        else row[:-1] + b"\r\n"
        for row in rows
    )


def sqlite_lines(
    connection: Connection, fmt: str, rf: RecordFilter, upto_entry_id: int | None
) -> Iterator[tuple[int, bytes]]:
    """SQLite: (rows, bytes) chunks of lines made by printf."""
    if fmt == "csv":
        template = ",".join(["%s"] * len(COMPLETION_COLUMNS))

        def line(columns: dict[str, Any]) -> Any:
            return SQLiteSpelling.line(template, csv_cells(columns, SQLiteSpelling))
    else:

        def line(columns: dict[str, Any]) -> Any:
            return json_line(columns, SQLiteSpelling)

    # As a BLOB, a line comes as UTF-8 bytes: nothing to decode, then encode again.
    query = completion_select(rf, upto_entry_id, lambda c: [cast(line(c), LargeBinary)])
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(inline_sql(query, connection))
        end = b"\r\n" if fmt == "csv" else b"\n"
        # Row by row, so that each row's tuple is gone before the next: a batch of them
        # would keep the garbage collector busy walking the app's objects.
        while batch := [data for (data,) in islice(cursor, BATCH)]:
            data = end.join(batch) + end
            if fmt == "csv" and not plain_csv(data, len(batch)):
                data = requoted(connection, rf, upto_entry_id, batch)
            yield len(batch), data
    finally:
        cursor.close()  # also when the download stops early


def requoted(
    connection: Connection, rf: RecordFilter, upto_entry_id: int | None, lines: list[bytes]
) -> bytes:
    """SQLite's unquoted CSV lines, those that are not plain written again from their cells
    (fetched anew, in the same transaction) by the csv module."""
    again = [entry_id(line) for line in lines if not plain_csv(line + b"\r\n", 1)]
    query = completion_select(
        rf, upto_entry_id, lambda columns: csv_cells(columns, SQLiteSpelling)
    ).where(LedgerEntry.id.in_(again))
    cursor = connection.connection.driver_connection.cursor()
    try:
        rewritten = {
            cells[0]: guarded_line(cells) for cells in cursor.execute(inline_sql(query, connection))
        }
    finally:
        cursor.close()
    return b"".join(rewritten.get(entry_id(line)) or line + b"\r\n" for line in lines)
