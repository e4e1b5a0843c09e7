"""``flask --app lms audit verify`` and ``flask --app lms audit head``: check the audit chain,
and print its head to keep somewhere else."""

from __future__ import annotations

import click
from flask import Blueprint

from lms.ledger import audit

bp = Blueprint("audit_cli", __name__, cli_group="audit")


def _anchor(value: str | None) -> tuple[int, str] | None:
    if not value:
        return None
    event_id, _, event_hash = value.partition(":")
    if not event_id.isdigit() or len(event_hash) != 64:
        raise click.BadParameter("give the anchor as ID:HASH, as `audit head` prints it")
    return int(event_id), event_hash


@bp.cli.command("verify")
@click.option("--anchor", help="ID:HASH of an event recorded elsewhere (a log line, a backup).")
def verify_command(anchor: str | None) -> None:
    """Walk the audit chain (hashes, MACs, the anchor) and report the first broken link."""
    result = audit.verify_chain(_anchor(anchor))
    if not result.intact:
        raise click.ClickException(
            f"The audit chain is broken at event {result.broken_id}: {result.reason} "
            f"({result.checked} events before it are intact)."
        )
    notes = []
    if not result.keyed:
        notes.append("no audit key was found, so the MACs were not checked")
    if result.unkeyed:
        notes.append(f"{result.unkeyed} events from before the audit key have no MAC")
    suffix = f" ({'; '.join(notes)})" if notes else ""
    click.echo(f"The audit chain is intact: {result.checked} events checked{suffix}.")


@bp.cli.command("head")
def head_command() -> None:
    """Print the last event's id and hash: an anchor to keep outside the database."""
    head = audit.chain_head()
    click.echo("The audit log is empty." if head is None else f"{head[0]}:{head[1]}")
