"""The study plan: a due date for every required module, computed or moved by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from lms.courses import reads as courses
from lms.courses.models import Module
from lms.credentials import rules
from lms.credentials import service as credentials
from lms.enrollment.models import Cohort, PlannedDueDate
from lms.enrollment.rules import plan as plan_rules
from lms.extensions import db


@dataclass(frozen=True)
class PlanItem:
    """One required module of the study plan and when it is due."""

    code: str
    title: str
    minutes: int
    computed_due: date | None
    due: date | None
    moved: bool


def plan_items(
    cohort: Cohort, modules: dict[str, Module], moved: dict[str, date]
) -> list[PlanItem]:
    """The plan of ``modules`` (by code, in tree order): computed due dates, and the ones an
    instructor moved (``moved``, from ``moved_dates``)."""
    planned = [plan_rules.PlannedModule(code, m.estimated_minutes) for code, m in modules.items()]
    computed = plan_rules.plan_due_dates(cohort.start_date, cohort.exam_date, planned)
    return [
        PlanItem(
            code=code,
            title=module.title,
            minutes=module.estimated_minutes,
            computed_due=computed.get(code),
            due=moved.get(code, computed.get(code)),
            moved=code in moved,
        )
        for code, module in modules.items()
    ]


def moved_dates(cohort_ids: list[int]) -> dict[int, dict[str, date]]:
    """The due dates instructors moved, by cohort and module code, in one query."""
    result: dict[int, dict[str, date]] = {cid: {} for cid in cohort_ids}
    if cohort_ids:
        rows = db.session.execute(
            select(
                PlannedDueDate.cohort_id, PlannedDueDate.module_code, PlannedDueDate.due_on
            ).where(PlannedDueDate.cohort_id.in_(cohort_ids))
        )
        for cohort_id, code, due_on in rows:
            result[cohort_id][code] = due_on
    return result


def study_plan(cohort: Cohort) -> list[PlanItem]:
    """Every required module of the cohort's credential with its due date, in tree order."""
    requirement_set = credentials.current_requirement_set(cohort.credential)
    tree = rules.parse_requirements(requirement_set.tree)
    modules = courses.modules_by_code(rules.module_codes(tree))
    ordered = {code: modules[code] for code in rules.module_codes(tree) if code in modules}
    return plan_items(cohort, ordered, moved_dates([cohort.id])[cohort.id])
