"""A module's draft (what its authors are writing) and its published versions (what students
have seen): the lesson text, title and estimated time of each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import UTCDateTime
from lms.extensions import db


class ModuleDraft(db.Model):
    """The work in progress on a module, one per module. ``revision`` goes up with every save:
    a save names the revision it started from, so two authors never overwrite each other."""

    __tablename__ = "module_draft"

    module_id: Mapped[int] = mapped_column(ForeignKey("module.id"), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    estimated_minutes: Mapped[int]
    lesson_markdown: Mapped[str] = mapped_column(Text)
    revision: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class ModuleVersion(db.Model):
    """A published version of a module, kept for ever: what was published, by whom, when and
    why. A completion in the ledger names the version the student passed."""

    __tablename__ = "module_version"
    __table_args__ = (UniqueConstraint("module_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    estimated_minutes: Mapped[int]
    lesson_markdown: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
