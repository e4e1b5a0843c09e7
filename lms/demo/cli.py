"""``flask --app lms seed-demo``."""

from __future__ import annotations

import click
from flask import Blueprint, current_app

from lms.db import utcnow
from lms.demo import seed
from lms.extensions import db

bp = Blueprint("demo_cli", __name__, cli_group=None)


@bp.cli.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo courses, credentials, cohorts and accounts (once; a rerun changes nothing)."""
    result = seed.seed_demo(utcnow())
    db.session.commit()
    if result.created:
        click.echo("Demo data loaded.")
    else:
        click.echo("Demo data already present; nothing changed.")
    base = current_app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000"
    click.echo(f"Demo logins (password for each: {seed.DEMO_PASSWORD}):")
    for email, role in seed.DEMO_LOGINS:
        click.echo(f"  {role:<10} {email}")
    if result.certificate_code:
        click.echo(f"Issued demo certificate: {base}/verify/{result.certificate_code}")
