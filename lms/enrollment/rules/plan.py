"""Study plans and exam dates: due dates spread to the exam, what is due this week, and the
dates an instructor or a student may set."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from lms.errors import Problem

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


def own_due_dates(
    due: Mapping[str, date], start: date, joined: date, exam: date | None
) -> dict[str, date]:
    """A student's own due dates: the cohort's plan (``due``) moved by the days they joined
    after the cohort's ``start``, so a late joiner keeps the cohort's pacing from the day they
    joined. No date moves past the exam date (for someone who joins after the exam, past the
    day they joined), so nothing is due before the day a student joins. A student who joined
    on or before the start keeps the cohort's dates."""
    late = (joined - start).days
    if late <= 0:
        return dict(due)
    latest = max(exam, joined) if exam is not None else date.max
    return {code: min(when + timedelta(days=late), latest) for code, when in due.items()}


def due_this_week(due: Mapping[str, date], done: set[str], today: date) -> list[str]:
    """Modules not done that are overdue or due in the next seven days, soonest first."""
    horizon = today + timedelta(days=6)
    return sorted(
        (code for code, when in due.items() if code not in done and when <= horizon),
        key=lambda code: (due[code], code),
    )


def due_date_problems(
    module_code: str, due_on: date, planned: Collection[str], start: date, exam: date | None
) -> list[Problem]:
    """Why a module's due date cannot be moved there: the module is not in the plan
    (``planned``: its module codes), or the date falls outside the cohort's dates."""
    problems = []
    if module_code not in planned:
        problems.append(Problem("That module is not in this cohort's study plan.", "module_code"))
    if due_on < start or (exam is not None and due_on > exam):
        problems.append(
            Problem("A due date must fall between the start date and the exam date.", "due_on")
        )
    return problems


def booking_problems(booked_on: date | None, today: date) -> list[Problem]:
    """Why a student cannot record this exam date: it is in the past (None clears it)."""
    if booked_on is not None and booked_on < today:
        return [Problem("The exam date you booked cannot be in the past.", "booked_on")]
    return []
