"""``flask --app lms send-mail`` (cron), ``worker`` (with Redis), ``mail-failed`` and
``mail-retry ID`` (what an administrator does about mail that could not be sent)."""

from __future__ import annotations

import click
from flask import Blueprint, current_app

from lms.db import utcnow
from lms.extensions import db
from lms.mail import delivery

bp = Blueprint("mail_cli", __name__, cli_group=None)


@bp.cli.command("send-mail")
@click.option("--limit", default=500, show_default=True, help="At most this many messages.")
def send_mail_command(limit: int) -> None:
    """Send every message of the outbox that is due (new, or due for another try)."""
    outcome = delivery.deliver_due(utcnow(), limit=limit)
    click.echo(f"{outcome.sent} sent, {outcome.failed} failed (to be tried again later).")


@bp.cli.command("mail-failed")
def mail_failed_command() -> None:
    """List the messages given up on after every attempt, with their last error."""
    rows = delivery.failed_mail()
    if not rows:
        click.echo("No message has failed.")
        return
    for row in rows:
        click.echo(
            f"{row.id}\t{row.failed_at:%Y-%m-%d %H:%M}\t{row.kind}\t{row.recipient}\t"
            f"{row.subject}\t{row.attempts} attempts\t{row.last_error}"
        )


@bp.cli.command("mail-retry")
@click.argument("row_id", type=int)
def mail_retry_command(row_id: int) -> None:
    """Try a failed message again (now, then with backoff as if new)."""
    if not delivery.retry(row_id, utcnow()):
        raise click.ClickException(f"No failed message has the id {row_id}.")
    db.session.commit()
    click.echo(f"Message {row_id} will be sent by the next send-mail.")


@bp.cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty (tests, one-off).")
def worker_command(burst: bool) -> None:
    """Run the RQ worker that sends mail queued on Redis (needs LMS_REDIS_URL)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not delivery.queue_configured(app):
        raise click.ClickException(
            "No queue to work on: set LMS_REDIS_URL (and leave LMS_MAIL_QUEUE unset) to send "
            "mail through Redis. Without it mail is sent after each response and by send-mail."
        )
    from rq import SimpleWorker

    queue = delivery.redis_queue(app)
    # SimpleWorker runs each job in this process, inside this app context: no fork, so no
    # database connection is shared with a child.
    worker = SimpleWorker([queue], connection=queue.connection)
    worker.work(burst=burst)
