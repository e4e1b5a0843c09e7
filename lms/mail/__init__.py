"""Outgoing mail: written to an outbox table in the caller's transaction, sent after commit.

Shared by every domain that sends mail (invitations, password resets, notices). A service
calls ``send_mail``: that adds a row to ``outgoing_mail`` and flushes, nothing more, so a
request that is refused (rolled back) sends nothing. Once the request's transaction commits
(``lms.transactions``), ``after_commit`` has the rows delivered: after the response has gone,
or by the RQ worker when Redis is configured (``lms.mail.delivery``). A row that could not be
sent is retried with backoff by ``flask --app lms send-mail`` (cron).

Without ``LMS_MAIL_SERVER`` the message goes to the ``lms.mail`` logger at INFO (link
included, so an operator can copy it); with it, over SMTP (``lms.mail.backends``). When
``MAIL_OUTBOX`` is on (and in tests) each message actually delivered is also kept in
``app.extensions["mail_outbox"]`` (``outbox()``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from lms.db import utcnow
from lms.extensions import db
from lms.mail.models import OutgoingMail

QUEUED = "lms.mail.queued"  # session.info key: ids of rows this transaction queued

# Kinds a person cannot turn off: they are how an account is reached at all.
SECURITY_KINDS = frozenset({"invitation", "password_reset"})


@dataclass(frozen=True)
class Message:
    """One email as delivered."""

    to: str
    subject: str
    body: str
    html: str | None = None
    unsubscribe_url: str | None = None


def send_mail(
    to: str,
    subject: str,
    body: str,
    *,
    kind: str = "notice",
    key: str | None = None,
    html: str | None = None,
    unsubscribe_url: str | None = None,
    now: datetime | None = None,
) -> Message:
    """Queue an email in the current transaction (it is sent after the commit).

    ``key`` names the message so it is never queued twice: a second call with the same key
    adds nothing. By default it is a digest of the kind, recipient, subject and body (the same
    text to the same person is the same message); a notice that may rightly repeat (a weekly
    digest) passes a key naming its occasion. ``body`` is the plain-text part; ``html`` an
    optional alternative."""
    message = Message(to=to, subject=subject, body=body, html=html, unsubscribe_url=unsubscribe_url)
    send_many([(message, kind, key)], now=now)
    return message


def send_many(messages: list[tuple[Message, str, str | None]], now: datetime | None = None) -> int:
    """Queue many emails, each ``(message, kind, key)``, in one statement whatever their
    number (a certificate issued to a whole cohort); how many were new."""
    if not messages:
        return 0
    now = now or utcnow()
    table = OutgoingMail.__table__
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    rows = [
        {
            "idempotency_key": (key or _content_key(kind, m.to, m.subject, m.body))[:200],
            "kind": kind,
            "recipient": m.to,
            "subject": m.subject[:300],
            "text_body": m.body,
            "html_body": m.html,
            "unsubscribe_url": m.unsubscribe_url,
            "created_at": now,
            "attempts": 0,
            "next_attempt_at": now,
        }
        for m, kind, key in messages
    ]
    statement = (
        dialect.insert(table)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(table.c.id)
    )
    row_ids = list(db.session.execute(statement).scalars())
    db.session.info.setdefault(QUEUED, []).extend(row_ids)
    return len(row_ids)


def _content_key(kind: str, to: str, subject: str, body: str) -> str:
    digest = hashlib.sha256("\0".join((kind, to.lower(), subject, body)).encode()).hexdigest()
    return f"{kind}:{digest}"


def take_queued() -> list[int]:
    """The ids of the rows queued in the current session since the last call (and forget
    them): what the transaction just committed has to deliver."""
    return db.session.info.pop(QUEUED, [])


def forget_queued() -> None:
    """Drop the ids queued in a transaction that was rolled back."""
    db.session.info.pop(QUEUED, None)


def outbox() -> list[Message]:
    """The messages delivered so far (tests, or ``MAIL_OUTBOX``)."""
    return current_app.extensions.setdefault("mail_outbox", [])
