"""How a message leaves: over SMTP when ``LMS_MAIL_SERVER`` is set, else to the log.

Both take an ``email.message.EmailMessage`` built by ``build_message`` (a text/plain part,
an HTML alternative when there is one) and raise on failure; the delivery loop counts the
attempt and retries later.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any, Protocol

from flask import current_app

from lms.mail.models import OutgoingMail

log = logging.getLogger("lms.mail")
log.setLevel(logging.INFO)

SMTP_TIMEOUT_SECONDS = 30


class Backend(Protocol):
    def send(self, message: EmailMessage) -> None: ...


def sender(config: Any) -> str:
    """The From address: ``LMS_MAIL_DEFAULT_SENDER``, else the school's name at localhost."""
    configured = config.get("MAIL_DEFAULT_SENDER")
    if configured:
        return str(configured)
    return f"{config.get('SCHOOL_NAME', 'LMS')} <no-reply@localhost>"


def build_message(row: OutgoingMail, config: Any) -> EmailMessage:
    """The email for an outbox row: headers, a plain-text part, the HTML alternative."""
    message = EmailMessage()
    message["From"] = sender(config)
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = formatdate(localtime=False)
    domain = parseaddr(message["From"])[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(idstring=f"lms{row.id}", domain=domain)
    if row.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{row.unsubscribe_url}>"
    message.set_content(row.text_body)
    if row.html_body:
        message.add_alternative(row.html_body, subtype="html")
    return message


class ConsoleBackend:
    """Writes the message to the ``lms.mail`` logger (the default without a mail server)."""

    def send(self, message: EmailMessage) -> None:
        _ensure_visible()
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        log.info("mail to %s: %s\n%s", message["To"], message["Subject"], text)


class SmtpBackend:
    """Sends over SMTP with the standard library: STARTTLS when ``LMS_MAIL_USE_TLS``, a login
    when ``LMS_MAIL_USERNAME`` is set. One connection per message: mail is rare here."""

    def __init__(self, config: Any) -> None:
        self.host = str(config["MAIL_SERVER"])
        self.use_tls = _truthy(config.get("MAIL_USE_TLS"))
        self.port = int(config.get("MAIL_PORT") or (587 if self.use_tls else 25))
        self.username = config.get("MAIL_USERNAME")
        self.password = config.get("MAIL_PASSWORD")

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if self.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(str(self.username), str(self.password or ""))
            refused = smtp.send_message(message)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)


def backend() -> Backend:
    """The backend the configuration asks for."""
    config = current_app.config
    if config.get("MAIL_SERVER"):
        return SmtpBackend(config)
    return ConsoleBackend()


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _ensure_visible() -> None:
    """Print to stderr when nobody configured logging (``flask run`` shows only warnings)."""
    if not log.hasHandlers():  # neither this logger nor its parents (lms, root) write anywhere
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
        log.addHandler(handler)
