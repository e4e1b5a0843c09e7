"""``flask --app lms sync-catalog``: load the credential catalogue into the database."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Blueprint

from lms.credentials import catalogue
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
        entries = catalogue.read_catalog(path or catalogue.CATALOG_FILE)
        result = catalogue.apply_catalog(entries, None, utcnow())
    except (InvalidInput, KeyError, ValueError) as error:
        db.session.rollback()
        if isinstance(error, InvalidInput):
            listed = "".join(f"\n  {problem.message}" for problem in error.problems)
            message = f"The catalogue cannot be loaded:{listed}"
        else:
            message = f"unreadable: {error}"
        raise click.ClickException(message) from error
    db.session.commit()
    click.echo(
        f"{len(result.credentials)} credentials in the catalogue: "
        f"{len(result.created)} created, {len(result.updated)} updated."
    )
    for label, codes in (("created", result.created), ("updated", result.updated)):
        if codes:
            click.echo(f"  {label}: {', '.join(codes)}")
