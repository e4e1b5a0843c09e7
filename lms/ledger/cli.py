"""``flask --app lms audit verify``: walk the audit chain."""

from __future__ import annotations

import click
from flask import Blueprint

from lms.ledger import audit

bp = Blueprint("audit_cli", __name__, cli_group="audit")


@bp.cli.command("verify")
def verify_command() -> None:
    """Walk the audit log's hash chain and report the first broken link."""
    result = audit.verify_chain()
    if result.intact:
        click.echo(f"The audit chain is intact: {result.checked} events checked.")
        return
    raise click.ClickException(
        f"The audit chain is broken at event {result.broken_id}: {result.reason} "
        f"({result.checked} events before it are intact)."
    )
