"""Announcements: an instructor (or an admin) posts to a cohort; each actively enrolled
student sees it on their dashboard, gets an in-app notice and an email."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from lms import links, mail
from lms.auth import notices
from lms.auth.models import User
from lms.enrollment.models import Announcement, Cohort, Enrollment, EnrollmentStatus
from lms.errors import InvalidInput, Problem
from lms.extensions import db
from lms.ledger import audit

TITLE_MAX = 200
BODY_MAX = 5000
#: How many announcements a student's dashboard shows.
ON_DASHBOARD = 5


def post_announcement(
    actor: User, cohort: Cohort, title: str, body: str, now: datetime
) -> Announcement:
    """Post to a cohort the actor teaches (the caller checked): every active student gets a
    notice and an email. Refused, with each problem on its field, when the title or the text
    is empty or too long."""
    title, body = title.strip(), body.strip()
    problems = []
    if not title:
        problems.append(Problem("Give the announcement a title.", "title"))
    elif len(title) > TITLE_MAX:
        problems.append(Problem(f"Keep the title under {TITLE_MAX} characters.", "title"))
    if not body:
        problems.append(Problem("Write what you want to tell the cohort.", "body"))
    elif len(body) > BODY_MAX:
        problems.append(Problem(f"Keep the text under {BODY_MAX} characters.", "body"))
    if problems:
        raise InvalidInput(problems=problems)
    announcement = Announcement(
        cohort_id=cohort.id, author_id=actor.id, title=title, body=body, created_at=now
    )
    db.session.add(announcement)
    db.session.flush()
    students = list(
        db.session.scalars(
            select(User)
            .join(Enrollment, Enrollment.student_id == User.id)
            .where(
                Enrollment.cohort_id == cohort.id,
                Enrollment.status == EnrollmentStatus.ACTIVE,
                User.active.is_(True),
            )
            .order_by(User.id)
        )
    )
    notices.notify(
        [student.id for student in students],
        "announcement",
        f"{cohort.name}: {title}",
        "/dashboard",
        now,
    )
    dashboard = links.external_url("enrollment.dashboard")
    mail.send_many(  # one statement for the whole cohort
        [
            (
                mail.Message(
                    student.email,
                    f"{cohort.name}: {title}",
                    f"Hello {student.full_name},\n\n{actor.full_name} wrote to {cohort.name}:"
                    f"\n\n{body}\n\nYour progress page: {dashboard}\n",
                ),
                "announcement",
                f"announcement:{announcement.id}:{student.id}",
            )
            for student in students
        ],
        now,
    )
    audit.record_event(
        "announcement.posted",
        actor=actor,
        now=now,
        target_type="cohort",
        target_id=cohort.id,
        details={"announcement_id": announcement.id, "title": title, "sent_to": len(students)},
    )
    return announcement


def announcements_of(cohort: Cohort) -> list[Announcement]:
    """Every announcement of a cohort, newest first, with its author."""
    return list(
        db.session.scalars(
            select(Announcement)
            .where(Announcement.cohort_id == cohort.id)
            .options(selectinload(Announcement.author))
            .order_by(Announcement.created_at.desc(), Announcement.id.desc())
        )
    )


def announcements_for_student(student_id: int, limit: int = ON_DASHBOARD) -> list[Announcement]:
    """The newest announcements of the cohorts the student is actively enrolled in."""
    return list(
        db.session.scalars(
            select(Announcement)
            .join(Announcement.cohort)
            .join(Enrollment, Enrollment.cohort_id == Announcement.cohort_id)
            .options(contains_eager(Announcement.cohort))
            .where(
                Enrollment.student_id == student_id,
                Enrollment.status == EnrollmentStatus.ACTIVE,
            )
            .order_by(Announcement.created_at.desc(), Announcement.id.desc())
            .limit(limit)
        )
    )
