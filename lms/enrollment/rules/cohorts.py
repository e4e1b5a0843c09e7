"""A cohort's settings, its join code, enrolling a student by email and overriding a
requirement: every problem, each on the form field it belongs to."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from lms.errors import Problem

MAX_NAME_LENGTH = 200
#: The at-risk policy a cohort may set: (smallest, largest).
INACTIVITY_DAYS = (1, 365)
FAILED_ATTEMPTS = (1, 50)


@dataclass(frozen=True)
class CohortSettings:
    """What an instructor sets on a cohort: its name, dates and at-risk policy."""

    name: str
    start_date: date | None
    exam_date: date | None
    inactivity_days: int | None = None
    failed_attempts_limit: int | None = None


def cohort_problems(settings: CohortSettings, taken_names: Sequence[str]) -> list[Problem]:
    """Every reason a cohort's settings cannot be saved, each on its field (``taken_names``:
    the other cohorts its instructors teach)."""
    problems = []
    name = settings.name.strip()
    if not name:
        problems.append(Problem("Give the cohort a name.", "name"))
    elif len(name) > MAX_NAME_LENGTH:
        problems.append(Problem(f"Keep the name to {MAX_NAME_LENGTH} characters.", "name"))
    elif name.casefold() in {taken.strip().casefold() for taken in taken_names}:
        problems.append(Problem(f"You already teach a cohort named “{name}”.", "name"))
    if settings.start_date is None:
        problems.append(Problem("Give the start date.", "start_date"))
    elif settings.exam_date is not None and settings.exam_date < settings.start_date:
        problems.append(Problem("The exam date cannot be before the start date.", "exam_date"))
    for field, value, (least, most) in (
        ("inactivity_days", settings.inactivity_days, INACTIVITY_DAYS),
        ("failed_attempts_limit", settings.failed_attempts_limit, FAILED_ATTEMPTS),
    ):
        if value is not None and not least <= value <= most:
            problems.append(Problem(f"Number must be between {least} and {most}.", field))
    return problems


JOIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud in class
JOIN_CODE_LENGTH = 8


def normalise_join_code(typed: str) -> str | None:
    """The canonical form of a typed join code (any case, spaces or dashes), or None."""
    letters = re.sub(r"[\s-]", "", typed).upper()
    if len(letters) != JOIN_CODE_LENGTH or any(c not in JOIN_CODE_ALPHABET for c in letters):
        return None
    return letters


def join_code_problems(typed: str) -> list[Problem]:
    """Why what a student typed cannot be a join code at all (whether a cohort has it is
    for the database to say)."""
    if normalise_join_code(typed) is None:
        return [
            Problem(
                f"A join code has {JOIN_CODE_LENGTH} letters and digits, like ABCD-EFGH. "
                "Check it with your instructor.",
                "code",
            )
        ]
    return []


def enrolment_problems(
    address: str, *, is_student: bool | None, full_name: str | None
) -> list[Problem]:
    """Why nobody can be enrolled by this email: it is a staff account's, or nobody's and no
    name was given to invite them by (``is_student`` is None: there is no account)."""
    if is_student or (is_student is None and full_name and full_name.strip()):
        return []
    problems = [Problem(f"There is no student account with the email {address}.", "email")]
    if is_student is None:
        problems.append(Problem("Give their name to invite them.", "full_name"))
    return problems


def override_problems(key: str, reason: str, keys: Collection[str]) -> list[Problem]:
    """Why an override cannot be recorded: a requirement the cohort does not have, or no
    reason (``keys``: the override keys of the cohort's requirements)."""
    problems = []
    if key not in keys:
        problems.append(Problem("Choose one of the cohort's requirements.", "key"))
    if not reason.strip():
        problems.append(
            Problem("Give the reason for the override; it is kept in the record.", "reason")
        )
    return problems
