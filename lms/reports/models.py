"""Export runs and the disclosures they made: what left the app, for whom, and its manifest."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.auth.models import User
from lms.db import UTCDateTime, enum_column
from lms.extensions import db


class ExportStatus(StrEnum):
    """Whether an export's content was produced to the end."""

    STARTED = "started"
    COMPLETE = "complete"


class ExportRun(db.Model):
    """One export of records: what was asked for, by whom, and the manifest of what left.

    The row is written (and the disclosure logged) before any byte leaves; its row count and
    SHA-256 are filled in when the last byte has been produced."""

    __tablename__ = "export_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    # completions / certificates / transcript / gradebook
    dataset: Mapped[str] = mapped_column(String(40))
    format: Mapped[str] = mapped_column(String(10))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    channel: Mapped[str] = mapped_column(String(10))  # web / api / cli
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    # Rows added after the export started are not in it, so it can be reproduced.
    upto_entry_id: Mapped[int | None]
    student_count: Mapped[int] = mapped_column(default=0)
    status: Mapped[ExportStatus] = mapped_column(enum_column(ExportStatus, "export_status"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    row_count: Mapped[int | None]
    byte_count: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))

    actor: Mapped[User | None] = relationship(lazy="raise")


class ExportDisclosure(db.Model):
    """A student whose records an export disclosed: the student's own disclosure log."""

    __tablename__ = "export_disclosure"

    export_id: Mapped[int] = mapped_column(ForeignKey("export_run.id"), primary_key=True)
    student_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id"), primary_key=True, index=True
    )

    export: Mapped[ExportRun] = relationship(lazy="raise")
