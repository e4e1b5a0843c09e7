"""``flask --app lms lti send-scores``: send waiting scores to the platforms' gradebooks."""

from __future__ import annotations

import click
from flask import Blueprint

from lms.db import utcnow
from lms.extensions import db
from lms.lti.service import grades

bp = Blueprint("lti_cli", __name__, cli_group="lti")


@bp.cli.command("send-scores")
@click.option("--all", "everything", is_flag=True, help="Also retry scores not yet due.")
def send_scores_command(everything: bool) -> None:
    """Send due scores; failures stay queued and are retried later with a growing delay."""
    report = grades.send_due_scores(utcnow(), everything=everything)
    db.session.commit()
    click.echo(f"{report.sent} sent, {report.failed} failed (kept for a later try).")
    for error in report.errors:
        click.echo(f"  {error}", err=True)
