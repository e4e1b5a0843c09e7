"""Dates: moving a due date of the study plan, and a student's exam booking."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from lms.auth.models import User
from lms.enrollment.models import Cohort, Enrollment, EnrollmentStatus, PlannedDueDate
from lms.enrollment.progress import readmodel
from lms.enrollment.progress.plan import study_plan
from lms.enrollment.rules.plan import booking_problems, due_date_problems
from lms.errors import InvalidInput, NotFound
from lms.extensions import db
from lms.ledger import audit


def move_due_date(
    actor: User, cohort: Cohort, module_code: str, due_on: date, now: datetime
) -> PlannedDueDate:
    """Move one module's due date; it must fall between the start and the exam date."""
    plan = study_plan(cohort)
    planned = {item.code for item in plan}
    problems = due_date_problems(module_code, due_on, planned, cohort.start_date, cohort.exam_date)
    if problems:
        raise InvalidInput(problems=problems)
    moved = db.session.scalar(
        select(PlannedDueDate).where(
            PlannedDueDate.cohort_id == cohort.id, PlannedDueDate.module_code == module_code
        )
    )
    before = next(item.due for item in plan if item.code == module_code)
    if moved is None:
        moved = PlannedDueDate(cohort_id=cohort.id, module_code=module_code, due_on=due_on)
        db.session.add(moved)
    moved.due_on = due_on
    moved.moved_at = now
    moved.moved_by_id = actor.id
    db.session.flush()
    audit.record_event(
        "study_plan.moved",
        actor=actor,
        now=now,
        target_type="cohort",
        target_id=cohort.id,
        details={
            "module": module_code,
            "from": before.isoformat() if before else None,
            "to": due_on.isoformat(),
        },
    )
    readmodel.refresh_cohorts([cohort.id], now)  # who is behind moves with the dates
    return moved


def record_exam_booking(
    student: User,
    cohort_id: int,
    *,
    booked_on: date | None,
    employer_paid: bool,
    today: date,
    now: datetime,
) -> Enrollment:
    """A student records the exam date they booked (or clears it) and who pays the fee."""
    enrollment = db.session.scalar(
        select(Enrollment).where(
            Enrollment.cohort_id == cohort_id, Enrollment.student_id == student.id
        )
    )
    if enrollment is None or enrollment.status is not EnrollmentStatus.ACTIVE:
        raise NotFound("You are not enrolled in that cohort.")
    problems = booking_problems(booked_on, today)
    if problems:
        raise InvalidInput(problems=problems)
    enrollment.exam_booked_on = booked_on
    enrollment.exam_fee_employer_paid = employer_paid if booked_on else False
    db.session.flush()
    audit.record_event(
        "exam.booked" if booked_on else "exam.cleared",
        actor=student,
        now=now,
        target_type="enrollment",
        target_id=enrollment.id,
        details={
            "booked_on": booked_on.isoformat() if booked_on else None,
            "employer_paid": enrollment.exam_fee_employer_paid,
        },
    )
    readmodel.refresh_students([student.id], now)
    return enrollment
