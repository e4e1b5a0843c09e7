"""Roster files: a CSV of students read row by row, every problem of every row reported."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from lms.errors import Problem

COLUMNS = ("email", "first name", "last name", "student id")
REQUIRED_COLUMNS = ("email", "first name", "last name")
_ALIASES = {
    "email": "email",
    "e mail": "email",
    "email address": "email",
    "e mail address": "email",
    "first name": "first name",
    "firstname": "first name",
    "given name": "first name",
    "forename": "first name",
    "last name": "last name",
    "lastname": "last name",
    "surname": "last name",
    "family name": "last name",
    "student id": "student id",
    "studentid": "student id",
    "student number": "student id",
    "student no": "student id",
    "id": "student id",
}
MAX_NAME_LENGTH = 100
MAX_STUDENT_ID_LENGTH = 40


class RosterFileError(ValueError):
    """A roster file that cannot be read at all (too big, not text, no header row)."""

    @property
    def problem(self) -> Problem:
        """The reason, on the upload form's file field."""
        return Problem(str(self), "file")


@dataclass(frozen=True)
class RosterRow:
    """One good row of a roster: who to enrol."""

    row: int  # as numbered in a spreadsheet: the header is row 1
    email: str
    first_name: str
    last_name: str
    student_id: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class RowProblem:
    """Why one row of a roster cannot be imported."""

    row: int
    column: str
    reason: str


@dataclass(frozen=True)
class Roster:
    """A parsed roster: the good rows and every problem found."""

    rows: tuple[RosterRow, ...]
    problems: tuple[RowProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _header_key(cell: str) -> str:
    words = re.sub(r"[\s_\-.]+", " ", cell.replace("\ufeff", "")).strip().casefold()
    return _ALIASES.get(words, words)


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Excel on Windows saves "CSV" in the ANSI code page unless told otherwise.
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise RosterFileError(
            "The file is not text. Save it from your spreadsheet as “CSV UTF-8”."
        ) from error


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse_roster(data: bytes, *, max_bytes: int, max_rows: int | None = None) -> Roster:
    """Read a roster CSV and check each row on its own; raise ``RosterFileError`` when the
    file as a whole cannot be used."""
    if len(data) > max_bytes:
        raise RosterFileError(
            f"The file is {math.ceil(len(data) / 1024)} KB; the limit is {max_bytes // 1024} KB. "
            "Split it into smaller files."
        )
    if b"\x00" in data:
        raise RosterFileError("The file is not text. Save it from your spreadsheet as CSV.")
    text = _decode(data)
    if not text.strip():
        raise RosterFileError("The file is empty.")
    first_line = text.lstrip("\r\n").splitlines()[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        records = [record for record in reader]
    except csv.Error as error:
        raise RosterFileError(f"The file could not be read as CSV: {error}.") from error
    header_index = next(
        (i for i, record in enumerate(records) if any(c.strip() for c in record)), None
    )
    if header_index is None:
        raise RosterFileError("The file is empty.")
    header = [_header_key(cell) for cell in records[header_index]]
    if "email" not in header:
        hint = ""
        if any("@" in cell for cell in records[header_index]):
            hint = " The first row holds an email address, so the header row is missing."
        raise RosterFileError(
            "The first row must be a header naming the columns: email, first name, last name "
            "(student id is optional)." + hint
        )
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise RosterFileError("The header row has no column " + ", ".join(missing) + ".")
    repeated = sorted({name for name in header if name in COLUMNS and header.count(name) > 1})
    if repeated:
        raise RosterFileError("The header row names " + ", ".join(repeated) + " twice.")
    position = {name: header.index(name) for name in COLUMNS if name in header}

    rows: list[RosterRow] = []
    problems: list[RowProblem] = []
    first_row_of: dict[str, int] = {}
    for index in range(header_index + 1, len(records)):
        record = records[index]
        if not any(cell.strip() for cell in record):
            continue  # blank lines, and the empty rows Excel leaves at the end
        number = index + 1

        def cell(name: str, record: list[str] = record) -> str:
            at = position.get(name)
            return record[at].strip() if at is not None and at < len(record) else ""

        row_problems = []
        email = cell("email")
        if not email:
            row_problems.append(RowProblem(number, "email", "missing email"))
        else:
            try:
                email = validate_email(email, check_deliverability=False).normalized.lower()
            except EmailNotValidError:
                row_problems.append(RowProblem(number, "email", f"malformed email “{email[:100]}”"))
            else:
                if email in first_row_of:
                    row_problems.append(
                        RowProblem(
                            number,
                            "email",
                            f"duplicate in the file (first on row {first_row_of[email]})",
                        )
                    )
                else:
                    first_row_of[email] = number
        for name in ("first name", "last name"):
            value = cell(name)
            if not value:
                row_problems.append(RowProblem(number, name, f"missing {name}"))
            elif len(value) > MAX_NAME_LENGTH:
                row_problems.append(
                    RowProblem(number, name, f"longer than {MAX_NAME_LENGTH} characters")
                )
        student_id = cell("student id") or None
        if student_id and len(student_id) > MAX_STUDENT_ID_LENGTH:
            row_problems.append(
                RowProblem(number, "student id", f"longer than {MAX_STUDENT_ID_LENGTH} characters")
            )
        if row_problems:
            problems.extend(row_problems)
        else:
            rows.append(RosterRow(number, email, cell("first name"), cell("last name"), student_id))
    if not rows and not problems:
        raise RosterFileError("The file has a header row but no students.")
    count = len(rows) + len({p.row for p in problems})
    if max_rows is not None and count > max_rows:
        raise RosterFileError(
            f"The file lists {count} students; at most {max_rows} can be imported at once. "
            "Split it into smaller files."
        )
    return Roster(tuple(rows), tuple(problems))


@dataclass(frozen=True)
class KnownAccount:
    """What the database knows of an email named in a roster."""

    is_student: bool
    enrolled_here: bool  # actively enrolled in the cohort being imported into
    asked_here: bool = False  # asked to join it already, and has not answered yet


def check_against_accounts(roster: Roster, known: Mapping[str, KnownAccount]) -> Roster:
    """Add the problems that depend on existing accounts: staff emails, already enrolled."""
    rows, problems = [], list(roster.problems)
    for row in roster.rows:
        account = known.get(row.email)
        if account is not None and not account.is_student:
            problems.append(
                RowProblem(row.row, "email", "belongs to a staff account, not a student")
            )
        elif account is not None and account.enrolled_here:
            problems.append(RowProblem(row.row, "email", "already enrolled in this cohort"))
        elif account is not None and account.asked_here:
            problems.append(
                RowProblem(row.row, "email", "already asked to join this cohort, not answered yet")
            )
        else:
            rows.append(row)
    problems.sort(key=lambda p: (p.row, COLUMNS.index(p.column)))
    return Roster(tuple(rows), tuple(problems))
