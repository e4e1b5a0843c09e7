"""Outgoing mail through a console backend: the message is written to the log.

Shared by every domain that sends mail (invitations, password resets). The message goes to
the ``lms.mail`` logger at INFO, link included, so an operator can copy it while no real mail
server is configured. When ``MAIL_OUTBOX`` is on (tests), messages are also kept in
``app.extensions["mail_outbox"]``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app

log = logging.getLogger("lms.mail")
log.setLevel(logging.INFO)


def _ensure_visible() -> None:
    """Print to stderr when nobody configured logging (``flask run`` shows only warnings)."""
    if not log.hasHandlers():  # neither this logger nor its parents (lms, root) write anywhere
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
        log.addHandler(handler)


@dataclass(frozen=True)
class Message:
    """One email as sent."""

    to: str
    subject: str
    body: str


def send_mail(to: str, subject: str, body: str) -> Message:
    """Send an email (log it, and keep it in the outbox when configured)."""
    message = Message(to=to, subject=subject, body=body)
    _ensure_visible()
    log.info("mail to %s: %s\n%s", to, subject, body)
    if current_app.config.get("MAIL_OUTBOX") or current_app.testing:
        current_app.extensions.setdefault("mail_outbox", []).append(message)
    return message


def outbox() -> list[Message]:
    """The messages kept so far (tests)."""
    return current_app.extensions.setdefault("mail_outbox", [])
