"""Outgoing email: a console backend that writes each message to the log.

In tests (``TESTING``) each message is also kept in ``app.extensions["mail_outbox"]``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """One email as it was sent."""

    to: str
    subject: str
    body: str


def send_mail(to: str, subject: str, body: str) -> Message:
    """Send an email (development: write it to the log)."""
    message = Message(to=to, subject=subject, body=body)
    log.info("mail to %s: %s\n%s", to, subject, body)
    if current_app.testing:
        current_app.extensions.setdefault("mail_outbox", []).append(message)
    return message
