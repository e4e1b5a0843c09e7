"""``flask --app lms sync-catalog``: load the credential catalogue into the database."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Blueprint

from lms.credentials import service
from lms.db import utcnow
from lms.errors import InvalidInput
from lms.extensions import db

bp = Blueprint("credentials_cli", __name__, cli_group=None)


@bp.cli.command("sync-catalog")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A catalogue file (default: the one shipped in lms/credentials/catalog.toml).",
)
def sync_catalog_command(path: Path | None) -> None:
    """Create or update credentials from the catalogue file; a rerun changes nothing."""
    try:
        entries = service.read_catalog(path or service.CATALOG_FILE)
        result = service.apply_catalog(entries, None, utcnow())
    except (InvalidInput, KeyError, ValueError) as error:
        db.session.rollback()
        message = error.message if isinstance(error, InvalidInput) else f"unreadable: {error}"
        raise click.ClickException(message) from error
    db.session.commit()
    click.echo(
        f"{len(result.credentials)} credentials in the catalogue: "
        f"{len(result.created)} created, {len(result.updated)} updated."
    )
    for label, codes in (("created", result.created), ("updated", result.updated)):
        if codes:
            click.echo(f"  {label}: {', '.join(codes)}")
