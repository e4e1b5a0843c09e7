"""Filters of record exports: parsed from text, checked, and turned into SQL conditions.

Every problem is reported at once; an export with a bad filter is refused before anything
is written, so it neither discloses nor logs anything."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, or_, select

from lms.auth.models import User
from lms.courses.models import Course, Module
from lms.credentials import service as credentials
from lms.enrollment import service as enrollment
from lms.enrollment.models import Cohort
from lms.errors import InvalidInput, NotFound
from lms.extensions import db
from lms.forms import whole_number
from lms.ledger.models import LedgerEntry, LedgerKind

#: Filter names, as query parameters, CLI options and API parameters.
FILTER_NAMES = ("cohort", "credential", "course", "student", "from", "to", "kind")


@dataclass(frozen=True)
class RecordFilter:
    """What to keep; None keeps everything."""

    cohort_id: int | None = None
    credential_id: int | None = None
    credential_module_ids: tuple[int, ...] = ()
    course_id: int | None = None
    student_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    kinds: tuple[LedgerKind, ...] = ()
    # The filter as the person gave it, normalised: stored in the manifest and audit log.
    described: dict[str, Any] = field(default_factory=dict)

    @property
    def since(self) -> datetime | None:
        return None if self.date_from is None else datetime.combine(self.date_from, time(), UTC)

    @property
    def before(self) -> datetime | None:
        if self.date_to is None:
            return None
        return datetime.combine(self.date_to + timedelta(days=1), time(), UTC)


def parse_date(raw: str, label: str, problems: list[str]) -> date | None:
    """An ISO date (YYYY-MM-DD), or a problem noted."""
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(f"The {label} date must look like 2026-11-30, not “{raw[:40]}”.")
        return None


def parse_filters(
    actor: User | None, raw: Mapping[str, Any], *, allow: tuple[str, ...] = FILTER_NAMES
):
    """Resolve text filters (codes, ids, emails, dates) to a ``RecordFilter``; every problem
    at once as ``InvalidInput``. Names outside ``allow`` that are given are refused too."""
    values = {
        k: str(v).strip() for k, v in raw.items() if k in FILTER_NAMES and v not in (None, "")
    }
    problems: list[str] = []
    refused = sorted(name for name in values if name not in allow)
    if refused:
        problems.append("This export cannot be filtered by " + ", ".join(refused) + ".")
    described: dict[str, Any] = {}
    found: dict[str, Any] = {}

    if "cohort" in values:
        text = values["cohort"]
        cohort = None
        number = whole_number(text)
        if number is not None and actor is None:  # the command line: the operator sees all
            cohort = db.session.get(Cohort, number)
        elif number is not None:
            try:
                cohort = enrollment.get_cohort_for(actor, number)
            except NotFound:
                cohort = None
        if cohort is None:
            problems.append(f"There is no cohort number {text[:40]}.")
        else:
            found["cohort_id"] = cohort.id
            described["cohort"] = cohort.id
    if "credential" in values:
        credential = credentials.get_credential_by_code(values["credential"])
        if credential is None:
            problems.append(f"There is no credential with the code {values['credential'][:40]}.")
        else:
            found["credential_id"] = credential.id
            found["credential_module_ids"] = tuple(credentials.required_module_ids(credential))
            described["credential"] = credential.code
    if "course" in values:
        code = values["course"].upper()
        course_id = db.session.scalar(select(Course.id).where(Course.code == code))
        if course_id is None:
            problems.append(f"There is no course with the code {values['course'][:40]}.")
        else:
            found["course_id"] = course_id
            described["course"] = code
    if "student" in values:
        text = values["student"]
        number = whole_number(text)
        condition = User.id == number if number is not None else User.email == text.lower()
        student = db.session.scalar(select(User).where(condition))
        if student is None or not student.is_student:
            problems.append(f"There is no student {text[:60]}.")
        else:
            found["student_id"] = student.id
            described["student"] = student.id
    if "from" in values:
        found["date_from"] = parse_date(values["from"], "from", problems)
    if "to" in values:
        found["date_to"] = parse_date(values["to"], "to", problems)
    if found.get("date_from") and found.get("date_to") and found["date_from"] > found["date_to"]:
        problems.append("The date range is backwards: the from date is after the to date.")
    for name in ("date_from", "date_to"):
        if found.get(name):
            described[name.removeprefix("date_")] = found[name].isoformat()
    if "kind" in values:
        kinds = []
        for part in values["kind"].split(","):
            try:
                kinds.append(LedgerKind(part.strip()))
            except ValueError:
                known = ", ".join(kind.value for kind in LedgerKind)
                problems.append(f"“{part.strip()[:40]}” is not an entry kind; use one of {known}.")
        found["kinds"] = tuple(kinds)
        described["kind"] = ",".join(kind.value for kind in kinds)
    if problems:
        raise InvalidInput(" ".join(problems))
    return RecordFilter(**found, described=described)


def ledger_conditions(rf: RecordFilter, upto_entry_id: int | None) -> list[Any]:
    """WHERE conditions on ``LedgerEntry`` for a filter (the module join is not needed)."""
    conditions: list[Any] = []
    if upto_entry_id is not None:
        conditions.append(LedgerEntry.id <= upto_entry_id)
    if rf.cohort_id is not None:
        conditions.append(LedgerEntry.student_id.in_(enrollment.student_ids_select(rf.cohort_id)))
    if rf.student_id is not None:
        conditions.append(LedgerEntry.student_id == rf.student_id)
    if rf.credential_id is not None:
        about = LedgerEntry.credential_id == rf.credential_id
        if rf.credential_module_ids:
            about = or_(about, LedgerEntry.module_id.in_(rf.credential_module_ids))
        conditions.append(about)
    if rf.course_id is not None:
        conditions.append(
            LedgerEntry.module_id.in_(select(Module.id).where(Module.course_id == rf.course_id))
        )
    if rf.since is not None:
        conditions.append(LedgerEntry.recorded_at >= rf.since)
    if rf.before is not None:
        conditions.append(LedgerEntry.recorded_at < rf.before)
    if rf.kinds:
        conditions.append(LedgerEntry.kind.in_(rf.kinds))
    return conditions


def ledger_students(rf: RecordFilter, upto_entry_id: int | None) -> Select:
    """A SELECT of the students who have an entry the filter keeps.

    Asked per student (an index probe that stops at the first entry kept) rather than as the
    distinct students of every entry: on a million entries, 10 ms instead of 300."""
    kept = select(LedgerEntry.id).where(
        LedgerEntry.student_id == User.id, *ledger_conditions(rf, upto_entry_id)
    )
    return select(User.id).where(kept.exists())
