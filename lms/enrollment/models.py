"""Cohorts of students aimed at a credential, and who is enrolled in them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint
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

    credential: Mapped[Credential] = relationship(lazy="raise")
    instructors: Mapped[list[User]] = relationship(secondary=cohort_instructor, lazy="raise")


class EnrollmentStatus(StrEnum):
    """Whether a student is currently in the cohort."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class Enrollment(db.Model):
    """A student's place in a cohort."""

    __tablename__ = "enrollment"
    __table_args__ = (UniqueConstraint("cohort_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[EnrollmentStatus] = mapped_column(
        enum_column(EnrollmentStatus, "enrollment_status")
    )
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime())

    cohort: Mapped[Cohort] = relationship(lazy="raise")
    student: Mapped[User] = relationship(lazy="raise")
