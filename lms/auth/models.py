"""User accounts and their roles."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import UTCDateTime, enum_column, utcnow
from lms.extensions import db


class Role(StrEnum):
    """What a user may do: the role decides which pages they see."""

    ADMIN = "admin"
    INSTRUCTOR = "instructor"
    STUDENT = "student"


class User(UserMixin, db.Model):
    """A person who logs in: a student, an instructor or an admin."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # An instructor an admin named to write course content (courses, quizzes, questions);
    # admins always may. Other instructors see content read-only.
    content_author: Mapped[bool] = mapped_column(default=False, server_default=false())
    # How many of the user's in-app notices are unread: kept with each notice and each
    # "mark as read", so the count in every page's header costs no query.
    unread_notices: Mapped[int] = mapped_column(default=0, server_default="0")
    # Bumped to end every session of the user at once (logout, disable).
    session_epoch: Mapped[int] = mapped_column(default=0)
    # Sessions that logged in before this moment are over (set by a restore from backup, which
    # brings back epochs from before logouts that happened since).
    sessions_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The IANA time zone pages show the user's times in ("America/New_York"); UTC by default.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """The session key: the id and the session epoch, so a bumped epoch ends the session."""
        return f"{self.id}.{self.session_epoch}"

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_instructor(self) -> bool:
        return self.role is Role.INSTRUCTOR

    @property
    def is_author(self) -> bool:
        """May create and edit course content: an admin, or an instructor named an author."""
        return self.is_admin or (self.is_instructor and self.content_author)

    @property
    def is_student(self) -> bool:
        return self.role is Role.STUDENT

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class Notice(db.Model):
    """An in-app notice to one user: something that happened to their records (evidence
    decided, a certificate issued or revoked) or an announcement to their cohort."""

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(String(1000))
    link: Mapped[str | None] = mapped_column(String(500))  # a path inside the app
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
