"""Cohorts of students aimed at a credential, and who is enrolled in them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.auth.models import User
from lms.credentials.models import Credential
from lms.db import UTCDateTime, enum_column
from lms.extensions import db

cohort_instructor = Table(
    "cohort_instructor",
    db.metadata,
    Column("cohort_id", ForeignKey("cohort.id"), primary_key=True),
    Column("user_id", ForeignKey("user_account.id"), primary_key=True),
)


class Cohort(db.Model):
    """A group of students preparing together for one credential."""

    __tablename__ = "cohort"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credential_id: Mapped[int] = mapped_column(ForeignKey("credential.id"))
    start_date: Mapped[date]
    exam_date: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Self-enrolment: students open /join/<code> or type it; off when join_enabled is False.
    join_code: Mapped[str | None] = mapped_column(String(16), index=True, unique=True)
    join_enabled: Mapped[bool] = mapped_column(default=False)
    # At-risk policy; None means the application's default (config).
    inactivity_days: Mapped[int | None]
    failed_attempts_limit: Mapped[int | None]

    credential: Mapped[Credential] = relationship(lazy="raise")
    instructors: Mapped[list[User]] = relationship(secondary=cohort_instructor, lazy="raise")

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class EnrollmentStatus(StrEnum):
    """Whether a student is currently in the cohort. Only an active enrolment lets the
    cohort's instructors see the student's records: a pending one waits for the student to
    accept (an instructor added an existing account), a declined one was refused by them."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    PENDING = "pending"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        """The status in words, as the pages show it."""
        return {"pending": "awaiting acceptance"}.get(self.value, self.value)


class Enrollment(db.Model):
    """A student's place in a cohort."""

    __tablename__ = "enrollment"
    __table_args__ = (
        UniqueConstraint("cohort_id", "student_id"),
        # the places a cohort page lists as awaiting an answer, among 10,000 active ones
        Index("ix_enrollment_cohort_status", "cohort_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[EnrollmentStatus] = mapped_column(
        enum_column(EnrollmentStatus, "enrollment_status")
    )
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    student_number: Mapped[str | None] = mapped_column(String(40))  # the school's own id
    # Exam scheduling, recorded by the student.
    exam_booked_on: Mapped[date | None]
    exam_fee_employer_paid: Mapped[bool] = mapped_column(default=False)

    cohort: Mapped[Cohort] = relationship(lazy="raise")
    student: Mapped[User] = relationship(lazy="raise")


class EnrollmentEventKind(StrEnum):
    """What happened to a student's place in a cohort."""

    ENROLLED = "enrolled"
    WITHDRAWN = "withdrawn"
    REENROLLED = "reenrolled"
    MOVED_OUT = "moved_out"
    MOVED_IN = "moved_in"
    SELF_ENROLLED = "self_enrolled"
    INVITED = "invited"  # an instructor asked the student to accept a place
    ACCEPTED = "accepted"
    DECLINED = "declined"


class EnrollmentEvent(db.Model):
    """One change of an enrolment; rows are only added, so the history is kept."""

    __tablename__ = "enrollment_event"
    __table_args__ = (Index("ix_enrollment_event_student", "student_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollment.id"), index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[EnrollmentEventKind] = mapped_column(
        enum_column(EnrollmentEventKind, "enrollment_event_kind")
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)

    cohort: Mapped[Cohort] = relationship(lazy="raise")
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="raise")


class Invitation(db.Model):
    """A single-use link that lets an invited person set their password.

    Only the SHA-256 of the token is stored; the token itself is in the email."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="raise")


class PlannedDueDate(db.Model):
    """A due date an instructor moved; other modules keep the computed date."""

    __tablename__ = "planned_due_date"
    __table_args__ = (UniqueConstraint("cohort_id", "module_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"))
    module_code: Mapped[str] = mapped_column(String(30))
    due_on: Mapped[date]
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    moved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class Announcement(db.Model):
    """What an instructor posts to a cohort: on its students' dashboards, as a notice and by
    mail."""

    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    author: Mapped[User] = relationship(lazy="raise")
    cohort: Mapped[Cohort] = relationship(lazy="raise")


class CalendarFeed(db.Model):
    """A student's secret calendar feed address (their study plan's due dates and booked exam
    dates). Only the SHA-256 of its token is stored; a reset replaces it, so the old address
    stops working at once."""

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())  # when this token was made

    user: Mapped[User] = relationship(lazy="raise")


# The columns the cohort page counts over a whole cohort, in the order of the index that holds
# them and of the page's GROUP BY (``progress.cohort_page``), which must be the same for the
# database to group in index order.
COUNTED_FLAGS = (
    "ready",
    "at_risk",
    "booked_not_ready",
    "exam_sat",
    "exam_passed",
    "exam_passed_first",
    "pending_evidence",
)


class ProgressRow(db.Model):
    """The cohort page's read model: one active student's standing in one cohort, judged by
    the readiness engine and kept current in the transaction of every fact that changes it
    (see ``lms.enrollment.progress.readmodel``). The page sorts, filters, counts and searches
    these columns instead of judging the whole cohort on every view.

    ``leaf_states`` holds each requirement's state in the tree's column order, a letter each
    (``d`` done, ``p`` in progress, ``n`` not started), for ``requirement_version``.
    ``valid_until`` is the instant the verdict may change with the date alone (a score
    leaving its window, a module falling due, a student going quiet); None when only a new
    fact can change it. ``flask --app lms progress refresh`` re-judges the rows past it."""

    __tablename__ = "progress_row"
    __table_args__ = (
        Index("ix_progress_row_name", "cohort_id", "sort_name"),
        Index("ix_progress_row_progress", "cohort_id", "progress"),
        # the booked exams under the matrix: soonest first, then by name, the first 20
        Index("ix_progress_row_exam", "cohort_id", "exam_booked_on", "sort_name"),
        Index("ix_progress_row_flags", "cohort_id", "at_risk", "ready", "not_started"),
        # the students with evidence to review, listed by name: only theirs are indexed
        Index(
            "ix_progress_row_pending_names",
            "cohort_id",
            "sort_name",
            "student_id",
            sqlite_where=text("pending_evidence > 0"),
            postgresql_where=text("pending_evidence > 0"),
        ),
        Index("ix_progress_row_valid_until", "valid_until"),
        # the cohort page's counts: its flags in the order it groups them by (SQLite answers
        # from the index alone, reading each entry once), and its two date ranges
        Index("ix_progress_row_counts", "cohort_id", *COUNTED_FLAGS),
        Index("ix_progress_row_cohort_valid_until", "cohort_id", "valid_until"),
    )

    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), primary_key=True)
    student_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id"), primary_key=True, index=True
    )
    requirement_version: Mapped[int]  # 0: the credential has no requirements yet
    sort_name: Mapped[str] = mapped_column(String(200))  # the full name, lower case
    email: Mapped[str] = mapped_column(String(254))  # lower case, for the search
    progress: Mapped[float]
    ready: Mapped[bool]
    not_started: Mapped[bool]
    at_risk: Mapped[bool]
    risk_reasons: Mapped[str] = mapped_column(Text, default="")  # one reason a line
    leaf_states: Mapped[str] = mapped_column(Text, default="")
    contact_hours: Mapped[float]
    exam_booked_on: Mapped[date | None]
    booked_not_ready: Mapped[bool]
    pending_evidence: Mapped[int]  # pieces of evidence waiting for review
    exam_sat: Mapped[bool]  # has a real exam result for the cohort's credential
    exam_passed: Mapped[bool]  # passed it at some sitting
    exam_passed_first: Mapped[bool]  # passed it at the first sitting
    judged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
