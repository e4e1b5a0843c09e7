"""``flask --app lms send-digests``: the weekly digests by email (run it from cron on Mondays;
twice in a week sends nothing more)."""

from __future__ import annotations

import click
from flask import Blueprint

from lms.db import utcnow
from lms.enrollment import digests
from lms.extensions import db
from lms.mail import delivery

bp = Blueprint("enrollment_cli", __name__, cli_group=None)


@bp.cli.command("send-digests")
def send_digests_command() -> None:
    """Queue this week's digests (study plan, students at risk, certificates expiring), then
    send them."""
    now = utcnow()
    counts = digests.send_weekly_digests(now)
    db.session.commit()
    delivery.after_commit()
    click.echo(
        f"Queued {counts.study} study-plan digests, {counts.at_risk} at-risk digests and "
        f"{counts.expiring} expiry notices."
    )
