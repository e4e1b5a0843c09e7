"""Real exam outcomes: after the certification exam, what happened, and the pass rate."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.auth.models import User
from lms.credentials.models import Credential, ExamOutcome
from lms.errors import InvalidInput, PermissionDenied, Problem
from lms.extensions import db
from lms.ledger import audit
from lms.ledger import service as ledger
from lms.ledger.models import LedgerKind


def record_exam_outcome(
    actor: User,
    student: User,
    credential: Credential,
    *,
    exam_date: date | None,
    passed: bool,
    score: float | None,
    now: datetime,
) -> ExamOutcome:
    """Record the result of a real exam; the caller has checked the actor may do so (the
    student themself, one of their instructors, or an admin)."""
    if not student.is_student:
        raise PermissionDenied("Exam results are recorded for students.")
    problems = []
    if exam_date is None:
        problems.append(Problem("Give the date of the exam.", "exam_date"))
    elif exam_date > now.date():
        problems.append(
            Problem(
                "The exam date cannot be in the future: record the result afterwards.",
                "exam_date",
            )
        )
    if score is not None and not 0 <= score <= 1000:
        problems.append(
            Problem(
                "The score must be between 0 and 1000 (a percentage or a scaled score).", "score"
            )
        )
    if problems:
        raise InvalidInput(problems=problems)
    outcome = ExamOutcome(
        student_id=student.id,
        credential_id=credential.id,
        exam_date=exam_date,
        passed=passed,
        score=score,
        recorded_at=now,
        recorded_by_id=actor.id,
    )
    db.session.add(outcome)
    db.session.flush()
    result = "passed" if passed else "did not pass"
    ledger.append_entry(
        student=student,
        kind=LedgerKind.EXAM_OUTCOME_RECORDED,
        credential_id=credential.id,
        score=score,
        source="exam",
        source_ref=f"exam_outcome:{outcome.id}",
        actor=actor,
        now=now,
        note=f"{credential.code} exam on {exam_date.isoformat()}: {result}",
    )
    audit.record_event(
        "exam_outcome.recorded",
        actor=actor,
        now=now,
        target_type="exam_outcome",
        target_id=outcome.id,
        details={"student_id": student.id, "credential": credential.code, "passed": passed},
    )
    return outcome


def outcomes_of(student_ids: Iterable[int], credential_id: int | None = None) -> list[ExamOutcome]:
    """Recorded exam outcomes of the students (of one credential if given), newest first."""
    student_ids = list(student_ids)
    if not student_ids:
        return []
    query = (
        select(ExamOutcome)
        .where(ExamOutcome.student_id.in_(student_ids))
        .options(selectinload(ExamOutcome.credential))
        .order_by(ExamOutcome.exam_date.desc(), ExamOutcome.id.desc())
    )
    if credential_id is not None:
        query = query.where(ExamOutcome.credential_id == credential_id)
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class PassRate:
    """How the students who sat the real exam did."""

    sat: int  # students with at least one recorded result
    passed: int  # of those, students who passed at some attempt
    passed_first_time: int

    @property
    def rate(self) -> float | None:
        """Share of students who sat the exam and passed it (None before anyone sat it)."""
        return self.passed / self.sat if self.sat else None


def pass_rate(student_ids: Iterable[int], credential_id: int) -> PassRate:
    """The real pass rate of a group of students on a credential's exam, in one query."""
    by_student: dict[int, list[ExamOutcome]] = {}
    for outcome in reversed(outcomes_of(student_ids, credential_id)):  # oldest first
        by_student.setdefault(outcome.student_id, []).append(outcome)
    return PassRate(
        sat=len(by_student),
        passed=sum(1 for items in by_student.values() if any(o.passed for o in items)),
        passed_first_time=sum(1 for items in by_student.values() if items[0].passed),
    )
