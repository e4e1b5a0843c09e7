"""``flask --app lms send-digests``: the weekly digests by email (run it from cron on Mondays;
twice in a week sends nothing more); ``flask --app lms progress rebuild|refresh``: the cohort
page's read model (see ``lms.enrollment.progress.readmodel``)."""

from __future__ import annotations

import click
from flask import Blueprint

from lms.db import utcnow
from lms.enrollment import digests
from lms.enrollment.progress import readmodel
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


# ``flask --app lms progress rebuild|refresh``: the cohort page's read model.
progress_bp = Blueprint("progress_cli", __name__, cli_group="progress")


def _report(changes: list, what: str) -> None:
    for change in changes:
        click.echo(str(change))
    click.echo(f"{what}: {len(changes)} row{'s' if len(changes) != 1 else ''} changed.")


@progress_bp.cli.command("rebuild")
def rebuild_command() -> None:
    """Judge every student of every cohort again from the ledger and the other facts, write
    what the read model had wrong, and list every row that had to change."""
    changes = readmodel.rebuild(utcnow())
    db.session.commit()
    _report(changes, "Rebuilt the progress rows")


@progress_bp.cli.command("refresh")
def refresh_command() -> None:
    """Judge again the rows whose verdict may have moved with the date (run it nightly,
    after midnight UTC)."""
    changes = readmodel.refresh_expired(utcnow())
    db.session.commit()
    _report(changes, "Refreshed the progress rows past their date")
