"""The outbox: every email is a row written in the transaction that decided to send it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import UTCDateTime
from lms.extensions import db


class OutgoingMail(db.Model):
    """One email to send, sent, or given up on.

    Written by ``send_mail`` in the request's transaction, so a refused request leaves none;
    delivered after the commit. ``claimed_until`` is the lease a sender takes before talking
    to the mail server, so two senders never send the same row; ``sent_at`` is set once the
    server accepted it. A failure counts an attempt and sets ``next_attempt_at`` further out;
    after the last attempt ``failed_at`` is set and the row waits for an administrator."""

    __tablename__ = "outgoing_mail"
    __table_args__ = (Index("ix_outgoing_mail_due", "sent_at", "failed_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)


class MailOptOut(db.Model):
    """A kind of notice a person asked not to receive (every kind is sent unless a row says
    otherwise; security mail, ``lms.mail.SECURITY_KINDS``, is always sent)."""

    __tablename__ = "mail_opt_out"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
