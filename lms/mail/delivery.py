"""Delivering the outbox: after the commit, by the worker, or by ``send-mail`` from cron.

Each row is sent by whoever first *claims* it: one ``UPDATE`` that sets a lease
(``claimed_until``) only where the row is still unsent, due, and unclaimed (or its lease ran
out), committed at once. Two senders racing for a row (the request that queued it and a cron
run, two workers) cannot both get it. The message is sent outside any transaction; then a
second short transaction records ``sent_at``, or the failure: one more attempt, the error,
and the next try after a growing delay (1 minute, 5, 25, ... capped at 6 hours). After
``MAX_ATTEMPTS`` the row is marked failed and stays for an administrator
(``flask --app lms mail-failed``; ``flask --app lms mail-retry ID``).

The one way a message goes out twice: the process dies after the mail server accepted it and
before ``sent_at`` was written; the lease then runs out (``LEASE``) and another sender sends it
again. Mail is never lost: a row stays until it is sent or given up on.

After a request's commit (``after_commit``, called by ``lms.transactions``):

- with Redis configured (``LMS_REDIS_URL``, unless ``LMS_MAIL_QUEUE=false``) the row ids go to
  the RQ queue ``lms-mail``, for ``flask --app lms worker``;
- otherwise, and if Redis cannot be reached, the rows are sent by the worker process that
  served the request once the response is written (``response.call_on_close``: the WSGI server
  calls it after the last byte, so the person never waits for the mail server, and no thread
  outlives the request; under gunicorn the worker takes its next request when it is done, at
  most the SMTP timeout later; under Werkzeug's development server, which can skip ``close``,
  ``lms.transactions.CloseAfterLastChunk`` runs it once the body is written);
- ``LMS_MAIL_DELIVERY=inline`` sends before the response returns (the tests).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Response, current_app
from sqlalchemy import func, or_, select, update

from lms import mail
from lms.db import utcnow
from lms.extensions import db
from lms.mail.backends import backend, build_message
from lms.mail.models import OutgoingMail

log = logging.getLogger("lms.mail")

MAX_ATTEMPTS = 8
FIRST_DELAY = timedelta(minutes=1)
DELAY_FACTOR = 5
MAX_DELAY = timedelta(hours=6)
BATCH = 10  # rows claimed at once: sent one by one within the lease
LEASE = timedelta(minutes=15)  # longer than a batch of SMTP conversations (30 s timeout each)
QUEUE_NAME = "lms-mail"


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure: 1 min, 5, 25, ... up to 6 hours."""
    return min(FIRST_DELAY * DELAY_FACTOR ** max(attempts - 1, 0), MAX_DELAY)


@dataclass(frozen=True)
class Outcome:
    """What one delivery run did."""

    sent: int = 0
    failed: int = 0  # attempts that failed (the row waits for its next try, or gave up)

    def __add__(self, other: Outcome) -> Outcome:
        return Outcome(self.sent + other.sent, self.failed + other.failed)


def _unsent_and_due(now: datetime) -> Any:
    return (
        OutgoingMail.sent_at.is_(None),
        OutgoingMail.failed_at.is_(None),
        OutgoingMail.next_attempt_at <= now,
        or_(OutgoingMail.claimed_until.is_(None), OutgoingMail.claimed_until < now),
    )


def claim(row_ids: list[int], now: datetime) -> list[int]:
    """Take the lease on these rows in a transaction of its own; the ids that are ours to
    send (the others are already sent, given up, not yet due, or being sent by someone
    else)."""
    claimed = db.session.scalars(
        update(OutgoingMail)
        .where(OutgoingMail.id.in_(row_ids), *_unsent_and_due(now))
        .values(claimed_until=now + LEASE)
        .returning(OutgoingMail.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(claimed)


def deliver(row_ids: list[int], now: datetime) -> Outcome:
    """Send these rows (those still unsent and due), claimed a few at a time."""
    outcome = Outcome()
    for start in range(0, len(row_ids), BATCH):
        outcome += _deliver_batch(row_ids[start : start + BATCH], now)
    return outcome


def _deliver_batch(row_ids: list[int], now: datetime) -> Outcome:
    claimed = claim(row_ids, now)
    if not claimed:
        return Outcome()
    rows = db.session.scalars(
        select(OutgoingMail)
        .where(OutgoingMail.id.in_(claimed))
        .order_by(OutgoingMail.id)
        .execution_options(populate_existing=True)
    ).all()
    messages = [(row, build_message(row, current_app.config)) for row in rows]
    db.session.commit()  # no transaction stays open while the mail server is talked to
    sender = backend()
    sent: list[OutgoingMail] = []
    failed = 0
    for row, message in messages:
        try:
            sender.send(message)
        except Exception as error:  # noqa: BLE001 - any failure is counted and retried
            _record_failure(row.id, row.attempts + 1, error, now)
            failed += 1
            continue
        # recorded at once, one by one: a crash later in the batch resends nothing sent
        _record_sent(row.id, now)
        sent.append(row)
        if current_app.config.get("MAIL_OUTBOX") or current_app.testing:
            mail.outbox().append(
                mail.Message(
                    to=row.recipient,
                    subject=row.subject,
                    body=row.text_body,
                    html=row.html_body,
                    unsubscribe_url=row.unsubscribe_url,
                )
            )
    return Outcome(sent=len(sent), failed=failed)


def _record_sent(row_id: int, now: datetime) -> None:
    db.session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == row_id)
        .values(sent_at=now, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _record_failure(row_id: int, attempts: int, error: Exception, now: datetime) -> None:
    given_up = attempts >= MAX_ATTEMPTS
    log.warning(
        "mail %s not sent (attempt %s%s): %s",
        row_id,
        attempts,
        ", giving up" if given_up else "",
        error,
    )
    db.session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == row_id)
        .values(
            attempts=attempts,
            last_error=f"{type(error).__name__}: {error}"[:2000],
            next_attempt_at=now + backoff(attempts),
            claimed_until=None,
            failed_at=now if given_up else None,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def deliver_due(now: datetime, limit: int = 500) -> Outcome:
    """Send every row that is due, oldest first (``flask --app lms send-mail``)."""
    row_ids = list(
        db.session.scalars(
            select(OutgoingMail.id)
            .where(*_unsent_and_due(now))
            .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id)
            .limit(limit)
        )
    )
    db.session.commit()
    return deliver(row_ids, now)


def failed_mail() -> list[OutgoingMail]:
    """Rows given up on, newest first."""
    return list(
        db.session.scalars(
            select(OutgoingMail)
            .where(OutgoingMail.failed_at.is_not(None), OutgoingMail.sent_at.is_(None))
            .order_by(OutgoingMail.failed_at.desc())
        )
    )


def waiting() -> int:
    """How many messages wait for a try (new, or after a failure)."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(OutgoingMail)
            .where(OutgoingMail.sent_at.is_(None), OutgoingMail.failed_at.is_(None))
        )
        or 0
    )


def retry(row_id: int, now: datetime) -> bool:
    """Give a failed row another round of attempts, due now; False if there is no such row."""
    result = db.session.execute(
        update(OutgoingMail)
        .where(
            OutgoingMail.id == row_id,
            OutgoingMail.sent_at.is_(None),
            OutgoingMail.failed_at.is_not(None),
        )
        .values(failed_at=None, attempts=0, next_attempt_at=now, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


# After the commit ---------------------------------------------------------------------------


def after_commit(response: Response | None = None) -> None:
    """Deliver what the transaction just committed queued (see the module's docstring)."""
    row_ids = mail.take_queued()
    if not row_ids:
        return
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if str(app.config.get("MAIL_DELIVERY", "")).lower() == "inline" or response is None:
        _deliver_logged(row_ids)
        return
    if _enqueue(app, row_ids):
        return
    response.call_on_close(lambda: _deliver_in_context(app, row_ids))


def _deliver_logged(row_ids: list[int]) -> None:
    try:
        deliver(row_ids, utcnow())
    except Exception:  # the rows stay in the outbox; send-mail picks them up
        db.session.rollback()
        log.exception("mail delivery after commit failed; the outbox keeps the messages")


def _deliver_in_context(app: Flask, row_ids: list[int]) -> None:
    """Runs once the response is written, outside the request's (already popped) context."""
    with app.app_context():
        _deliver_logged(row_ids)


def queue_configured(app: Flask) -> bool:
    """True when mail goes through the RQ worker: Redis is configured and not turned off."""
    wanted = app.config.get("MAIL_QUEUE", True)
    if isinstance(wanted, str):
        wanted = wanted.strip().lower() not in {"0", "false", "no", "off"}
    return bool(app.config.get("REDIS_URL")) and bool(wanted)


def redis_queue(app: Flask) -> Any:
    """The RQ queue of mail jobs on the configured Redis."""
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(str(app.config["REDIS_URL"]), socket_timeout=5)
    return Queue(str(app.config.get("MAIL_QUEUE_NAME") or QUEUE_NAME), connection=connection)


def _enqueue(app: Flask, row_ids: list[int]) -> bool:
    if not queue_configured(app):
        return False
    try:
        # a job no worker took within a day is dropped: send-mail has sent its rows by then
        redis_queue(app).enqueue(deliver_job, row_ids, ttl=86400, result_ttl=0, failure_ttl=86400)
    except Exception:  # Redis down: send from here after the response instead
        log.exception("could not queue mail on Redis; sending after the response instead")
        return False
    return True


def deliver_job(row_ids: list[int]) -> None:
    """The RQ job: runs in ``flask --app lms worker``, inside the app's context."""
    with current_app.app_context():
        deliver(row_ids, utcnow())
