"""Cohorts: creating and editing them, archiving, co-instructors and the join code."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.auth import service as accounts
from lms.auth.models import Role, User
from lms.credentials import service as credentials
from lms.credentials.models import Credential
from lms.enrollment.models import Cohort, cohort_instructor
from lms.enrollment.progress import readmodel
from lms.enrollment.rules.cohorts import (
    JOIN_CODE_ALPHABET,
    JOIN_CODE_LENGTH,
    CohortSettings,
    cohort_problems,
)
from lms.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Problem
from lms.extensions import db
from lms.ledger import audit


def create_cohort(
    actor: User,
    *,
    name: str,
    credential_id: int,
    start_date: date,
    exam_date: date | None,
    now: datetime,
    inactivity_days: int | None = None,
    failed_attempts_limit: int | None = None,
) -> Cohort:
    """Create a cohort aimed at a credential; an instructor who creates it teaches it."""
    if actor.role not in (Role.INSTRUCTOR, Role.ADMIN):
        raise PermissionDenied("Only instructors and admins create cohorts.")
    settings = CohortSettings(name, start_date, exam_date, inactivity_days, failed_attempts_limit)
    taken = _names_taught_by(actor) if actor.is_instructor else []
    credential = credentials.get_credential(credential_id)
    problems = cohort_problems(settings, taken) + _aim_problems(credential)
    if problems:
        raise InvalidInput(problems=problems)
    cohort = Cohort(created_at=now, join_enabled=False)
    _apply(cohort, settings, credential)
    if actor.is_instructor:
        cohort.instructors = [actor]
    db.session.add(cohort)
    db.session.flush()
    audit.record_event(
        "cohort.created",
        actor=actor,
        now=now,
        target_type="cohort",
        target_id=cohort.id,
        details={"name": cohort.name, "credential": credential.code},
    )
    return cohort


def _aim_problems(credential: Credential) -> list[Problem]:
    """A cohort aims at a credential with requirements: without them nobody in it could be
    judged, and its pages would have nothing to show."""
    if credentials.with_requirements([credential.id]):
        return []
    return [
        Problem(
            f"{credential.code} has no requirements yet. An admin gives it requirements "
            "(Credentials, then the credential) before a cohort can aim at it.",
            "credential_id",
        )
    ]


def _names_taught_by(actor: User, *, except_id: int | None = None) -> list[str]:
    query = (
        select(Cohort.name)
        .join(cohort_instructor, cohort_instructor.c.cohort_id == Cohort.id)
        .where(cohort_instructor.c.user_id == actor.id)
    )
    if except_id is not None:
        query = query.where(Cohort.id != except_id)
    return list(db.session.scalars(query))


def _apply(cohort: Cohort, settings: CohortSettings, credential: Credential) -> None:
    cohort.name = settings.name.strip()
    cohort.credential = credential
    cohort.start_date = settings.start_date
    cohort.exam_date = settings.exam_date
    cohort.inactivity_days = settings.inactivity_days
    cohort.failed_attempts_limit = settings.failed_attempts_limit


def update_cohort(
    actor: User,
    cohort: Cohort,
    *,
    name: str,
    credential_id: int,
    start_date: date,
    exam_date: date | None,
    inactivity_days: int | None,
    failed_attempts_limit: int | None,
    now: datetime,
) -> Cohort:
    """Change a cohort's name, credential, dates or at-risk policy."""
    settings = CohortSettings(name, start_date, exam_date, inactivity_days, failed_attempts_limit)
    # Duplicate names are judged against the cohorts of every instructor of this cohort.
    taken = [
        taken_name
        for instructor in cohort.instructors
        for taken_name in _names_taught_by(instructor, except_id=cohort.id)
    ]
    credential = credentials.get_credential(credential_id)
    problems = cohort_problems(settings, taken)
    if credential.id != cohort.credential_id:  # a cohort aimed at one before keeps it
        problems += _aim_problems(credential)
    if problems:
        raise InvalidInput(problems=problems)
    before = {
        "name": cohort.name,
        "credential": cohort.credential.code,
        "start_date": cohort.start_date.isoformat(),
        "exam_date": cohort.exam_date.isoformat() if cohort.exam_date else None,
    }
    _apply(cohort, settings, credential)
    db.session.flush()
    audit.record_event(
        "cohort.updated",
        actor=actor,
        now=now,
        target_type="cohort",
        target_id=cohort.id,
        details={"before": before, "name": cohort.name, "credential": credential.code},
    )
    readmodel.refresh_cohorts([cohort.id], now)  # its credential, dates or policy changed
    return cohort


def set_archived(actor: User, cohort: Cohort, archived: bool, now: datetime) -> Cohort:
    """Archive a cohort (its join code stops working) or bring it back."""
    if archived == cohort.is_archived:
        raise Conflict(f"{cohort.name} is already {'archived' if archived else 'active'}.")
    cohort.archived_at = now if archived else None
    if archived:
        cohort.join_enabled = False
    db.session.flush()
    audit.record_event(
        "cohort.archived" if archived else "cohort.restored",
        actor=actor,
        now=now,
        target_type="cohort",
        target_id=cohort.id,
    )
    return cohort


def add_instructor(actor: User, cohort: Cohort, email: str, now: datetime) -> User:
    """Add a co-instructor by email; the account must be an instructor's."""
    person = accounts.find_user_by_email(email)
    if person is None or not person.is_instructor:
        raise InvalidInput(
            f"There is no instructor account with the email {email.strip()}.", field="email"
        )
    if person in cohort.instructors:
        raise Conflict(f"{person.full_name} already teaches {cohort.name}.")
    if cohort.name.casefold() in {n.casefold() for n in _names_taught_by(person)}:
        raise Conflict(f"{person.full_name} already teaches a cohort named “{cohort.name}”.")
    cohort.instructors.append(person)
    db.session.flush()
    audit.record_event(
        "cohort.instructor_added",
        actor=actor,
        now=now,
        target_type="cohort",
        target_id=cohort.id,
        details={"user_id": person.id},
    )
    return person


def remove_instructor(actor: User, cohort: Cohort, user_id: int, now: datetime) -> User:
    """Remove a co-instructor; a cohort keeps at least one."""
    person = next((u for u in cohort.instructors if u.id == user_id), None)
    if person is None:
        raise NotFound("That person does not teach this cohort.")
    if len(cohort.instructors) == 1:
        raise Conflict("A cohort needs at least one instructor. Add another one first.")
    cohort.instructors.remove(person)
    db.session.flush()
    audit.record_event(
        "cohort.instructor_removed",
        actor=actor,
        now=now,
        target_type="cohort",
        target_id=cohort.id,
        details={"user_id": person.id},
    )
    return person


def cohorts_for(actor: User, *, include_archived: bool = True) -> list[Cohort]:
    """The cohorts an instructor teaches (every cohort for an admin)."""
    query = (
        select(Cohort).options(selectinload(Cohort.credential)).order_by(Cohort.start_date.desc())
    )
    if not actor.is_admin:
        query = query.join(cohort_instructor).where(cohort_instructor.c.user_id == actor.id)
    if not include_archived:
        query = query.where(Cohort.archived_at.is_(None))
    return list(db.session.scalars(query))


def _new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def set_join(
    actor: User, cohort: Cohort, *, enabled: bool, now: datetime, new_code: bool = False
) -> Cohort:
    """Turn self-enrolment by join code on or off, or give the cohort a new code."""
    if enabled and cohort.is_archived:
        raise Conflict("An archived cohort cannot take new students. Restore it first.")
    if enabled and (cohort.join_code is None or new_code):
        cohort.join_code = _new_join_code()
    cohort.join_enabled = enabled
    db.session.flush()
    audit.record_event(
        "cohort.join_enabled" if enabled else "cohort.join_disabled",
        actor=actor,
        now=now,
        target_type="cohort",
        target_id=cohort.id,
        details={"new_code": bool(new_code and enabled)},
    )
    return cohort
