"""Pure rules for cohorts: roster files, study plans and at-risk flags.

No Flask, no database, no clock: facts and ``today`` come in, every problem comes out.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from email_validator import EmailNotValidError, validate_email

# --- cohorts -----------------------------------------------------------------------------


def cohort_problems(
    *, name: str, start_date: date | None, exam_date: date | None, taken_names: Sequence[str]
) -> list[str]:
    """Every reason a cohort's name and dates cannot be saved (``taken_names``: the other
    cohorts the instructor teaches)."""
    problems = []
    name = name.strip()
    if not name:
        problems.append("Give the cohort a name.")
    elif name.casefold() in {taken.strip().casefold() for taken in taken_names}:
        problems.append(f"You already teach a cohort named “{name}”.")
    if start_date is None:
        problems.append("Give the start date.")
    elif exam_date is not None and exam_date < start_date:
        problems.append("The exam date cannot be before the start date.")
    return problems


JOIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud in class
JOIN_CODE_LENGTH = 8


def normalise_join_code(typed: str) -> str | None:
    """The canonical form of a typed join code (any case, spaces or dashes), or None."""
    letters = re.sub(r"[\s-]", "", typed).upper()
    if len(letters) != JOIN_CODE_LENGTH or any(c not in JOIN_CODE_ALPHABET for c in letters):
        return None
    return letters


# --- roster files ------------------------------------------------------------------------

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
        else:
            rows.append(row)
    problems.sort(key=lambda p: (p.row, COLUMNS.index(p.column)))
    return Roster(tuple(rows), tuple(problems))


# --- study plans -------------------------------------------------------------------------

REVIEW_DAYS = 7  # the last week before the exam is left for review when there is room
REVIEW_MIN_SPAN = 28


@dataclass(frozen=True)
class PlannedModule:
    """A required module and the time it is expected to take."""

    code: str
    minutes: int


def plan_due_dates(
    start: date, exam: date | None, modules: Sequence[PlannedModule]
) -> dict[str, date]:
    """Due dates spread between the start and the exam in proportion to estimated time.

    The last week is kept for review when the cohort runs four weeks or more. No exam date,
    no plan."""
    if exam is None or not modules:
        return {}
    end = exam - timedelta(days=REVIEW_DAYS) if (exam - start).days >= REVIEW_MIN_SPAN else exam
    span = max((end - start).days, 0)
    weights = [max(module.minutes, 1) for module in modules]
    total = sum(weights)
    due, running = {}, 0
    for module, weight in zip(modules, weights, strict=True):
        running += weight
        due[module.code] = start + timedelta(days=math.ceil(span * running / total))
    return due


def due_this_week(due: Mapping[str, date], done: set[str], today: date) -> list[str]:
    """Modules not done that are overdue or due in the next seven days, soonest first."""
    horizon = today + timedelta(days=6)
    return sorted(
        (code for code, when in due.items() if code not in done and when <= horizon),
        key=lambda code: (due[code], code),
    )


# --- at-risk flags -----------------------------------------------------------------------


@dataclass(frozen=True)
class RiskPolicy:
    """When a student counts as at risk."""

    failed_attempts: int = 3
    inactivity_days: int = 14


@dataclass(frozen=True)
class RiskFacts:
    """What is known of one student for the at-risk check."""

    ready: bool
    done: frozenset[str]  # module codes met (by completion or override)
    due: Mapping[str, date]
    failed_attempts: Mapping[str, int]  # module code -> failed attempts
    last_activity: datetime | None
    enrolled_at: datetime


def risk_reasons(facts: RiskFacts, policy: RiskPolicy, today: date) -> list[str]:
    """Every reason the student is at risk; none when they are ready."""
    if facts.ready:
        return []
    reasons = []
    overdue = [
        code
        for _, code in sorted(
            (when, code)
            for code, when in facts.due.items()
            if when < today and code not in facts.done
        )
    ]
    if overdue:
        noun = "module" if len(overdue) == 1 else "modules"
        reasons.append(
            f"Behind the study plan: {len(overdue)} {noun} overdue ({', '.join(overdue)})"
        )
    for code, failed in sorted(facts.failed_attempts.items()):
        if code not in facts.done and failed >= policy.failed_attempts:
            reasons.append(f"{failed} failed attempts on {code}")
    since = facts.last_activity or facts.enrolled_at
    idle = (today - since.date()).days
    if idle >= policy.inactivity_days:
        if facts.last_activity is None:
            reasons.append(f"No activity since enrolment ({idle} days)")
        else:
            reasons.append(f"No activity for {idle} days")
    return reasons


def median(values: Sequence[float]) -> float:
    """The median of a non-empty list; 0 for an empty one."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
