"""Weekly digests by email, sent by ``flask --app lms send-digests`` (cron, on Mondays):

- to each student of a cohort in progress, the modules of their study plan due this week (and
  those overdue), as their dashboard shows them; nothing when nothing is due;
- to each instructor, the students of their cohorts flagged at risk, with the reasons the
  cohort page gives; nothing when nobody is;
- and the certificates about to expire (``credentials.notify_expiring``).

Each digest's key names the person and the ISO week, so running the command twice in a week
sends nothing more. A person who turned a digest off (the Emails page, or the link at the foot
of every digest) is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms import links
from lms.auth.models import User
from lms.credentials import service as credentials
from lms.enrollment.models import Cohort, Enrollment, EnrollmentStatus
from lms.enrollment.progress.dashboard import student_dashboard
from lms.enrollment.progress.matrix import cohort_progress
from lms.extensions import db
from lms.mail import notices


@dataclass(frozen=True)
class DigestCounts:
    """How many of each were queued."""

    study: int
    at_risk: int
    expiring: int


def week_of(now: datetime) -> str:
    """The ISO week of ``now``, as 2026-W49: what makes a digest's key."""
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}"


def send_weekly_digests(now: datetime) -> DigestCounts:
    """Queue this week's digests (see the module's docstring)."""
    return DigestCounts(
        study=send_study_digests(now),
        at_risk=send_at_risk_digests(now),
        expiring=credentials.notify_expiring(now),
    )


def _cohorts_in_progress() -> list[Cohort]:
    return list(
        db.session.scalars(
            select(Cohort)
            .where(Cohort.archived_at.is_(None))
            .options(selectinload(Cohort.credential), selectinload(Cohort.instructors))
            .order_by(Cohort.name, Cohort.id)
        )
    )


def send_study_digests(now: datetime) -> int:
    """Each student's modules due this week, or overdue."""
    students = db.session.scalars(
        select(User)
        .join(Enrollment, Enrollment.student_id == User.id)
        .join(Cohort, Cohort.id == Enrollment.cohort_id)
        .where(
            Enrollment.status == EnrollmentStatus.ACTIVE,
            Cohort.archived_at.is_(None),
            User.active.is_(True),
        )
        .distinct()
        .order_by(User.id)
    ).all()
    week = week_of(now)
    dashboard = links.external_url("enrollment.dashboard")
    digests = []
    for student in students:
        lines = [
            f"- {module.title} ({progress.cohort.name}): "
            f"{'overdue since' if overdue else 'due'} {due:%A %d %b}"
            for progress in student_dashboard(student, now)
            for module, due, overdue in progress.this_week
        ]
        if not lines:
            continue
        digests.append(
            notices.Notice(
                user_id=student.id,
                email=student.email,
                subject="Your study plan this week",
                body=(
                    f"Hello {student.full_name},\n\nThese modules of your study plan are due "
                    "this week:\n\n" + "\n".join(lines) + f"\n\nYour dashboard: {dashboard}\n"
                ),
                key=f"study_digest:{student.id}:{week}",
            )
        )
    return notices.notify_many("study_digest", digests, now)


def send_at_risk_digests(now: datetime) -> int:
    """Each instructor's students at risk, cohort by cohort."""
    by_instructor: dict[int, tuple[User, list[str]]] = {}
    for cohort in _cohorts_in_progress():
        if not cohort.instructors:
            continue
        at_risk = [row for row in cohort_progress(cohort, now=now).rows if row.at_risk]
        if not at_risk:
            continue
        link = links.external_url("enrollment.cohort_page", cohort_id=cohort.id, show="at_risk")
        section = [f"{cohort.name} ({len(at_risk)} at risk): {link}"] + [
            f"- {row.student.full_name}: {'; '.join(row.risk_reasons)}" for row in at_risk
        ]
        for instructor in cohort.instructors:
            if instructor.active:
                by_instructor.setdefault(instructor.id, (instructor, []))[1].append(
                    "\n".join(section)
                )
    week = week_of(now)
    digests = [
        notices.Notice(
            user_id=instructor.id,
            email=instructor.email,
            subject="Students at risk this week",
            body=(
                f"Hello {instructor.full_name},\n\nThese students of your cohorts are at "
                "risk:\n\n" + "\n\n".join(sections) + "\n"
            ),
            key=f"at_risk_digest:{instructor.id}:{week}",
        )
        for instructor, sections in by_instructor.values()
    ]
    return notices.notify_many("at_risk_digest", digests, now)
