"""A media file of a course's lessons."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import UTCDateTime
from lms.extensions import db


class MediaFile(db.Model):
    """A file a course's lessons refer to as ``media/<filename>``. The bytes are stored by
    their SHA-256 (``storage.py``), never under the name the uploader gave."""

    __tablename__ = "media_file"
    __table_args__ = (UniqueConstraint("course_id", "filename"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    filename: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))  # image, pdf, audio, video, captions
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    # A video's captions or transcript file (WCAG 1.2): required before it is stored.
    captions_id: Mapped[int | None] = mapped_column(ForeignKey("media_file.id"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
