"""Dates: moving a due date of the study plan, and a student's exam booking."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from lms.auth.models import User
from lms.enrollment.models import Cohort, Enrollment, EnrollmentStatus, PlannedDueDate
from lms.enrollment.progress.plan import study_plan
from lms.errors import InvalidInput, NotFound
from lms.extensions import db
from lms.ledger import audit


def move_due_date(
    actor: User, cohort: Cohort, module_code: str, due_on: date, now: datetime
) -> PlannedDueDate:
    """Move one module's due date; it must fall between the start and the exam date."""
    plan = study_plan(cohort)
    if module_code not in {item.code for item in plan}:
        raise InvalidInput("That module is not in this cohort's study plan.")
    if due_on < cohort.start_date or (cohort.exam_date and due_on > cohort.exam_date):
        raise InvalidInput("A due date must fall between the start date and the exam date.")
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
    if booked_on is not None and booked_on < today:
        raise InvalidInput("The exam date you booked cannot be in the past.")
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
    return enrollment
