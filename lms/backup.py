"""``flask --app lms backup -o FILE`` and ``flask --app lms restore FILE``.

SQLite: the online backup API copies a consistent snapshot while the app keeps running, and
restore copies a backup file back the same way. PostgreSQL: ``pg_dump`` in its custom format,
and ``pg_restore --clean`` (both must be on the PATH, from the server's major version).
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import subprocess  # noqa: S404  # nosec B404
from pathlib import Path

import click
from flask import Blueprint
from sqlalchemy.engine import make_url

from lms.extensions import db

bp = Blueprint("backup_cli", __name__, cli_group=None)
log = logging.getLogger(__name__)


def _sqlite_path() -> Path:
    return Path(db.engine.url.database or "")


def _libpq_url() -> str:
    """The database URL as libpq tools read it (no SQLAlchemy driver suffix)."""
    url = make_url(db.engine.url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise click.ClickException(f"{name} is not installed or not on the PATH.")
    return path


def backup_database(target: Path) -> None:
    """Write a consistent copy of the whole database to ``target``."""
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        source = sqlite3.connect(_sqlite_path())
        destination = sqlite3.connect(target)
        try:
            with destination:
                source.backup(destination)
        finally:
            destination.close()
            source.close()
    elif dialect == "postgresql":
        subprocess.run(  # noqa: S603  # nosec B603
            [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target)]
            + ["--dbname", _libpq_url()],
            check=True,
            capture_output=True,
        )
    else:
        raise click.ClickException(f"Backups of {dialect} databases are not supported.")


def restore_database(source: Path) -> None:
    """Replace the whole database with the backup in ``source``."""
    dialect = db.engine.dialect.name
    db.session.remove()
    db.engine.dispose()
    if dialect == "sqlite":
        backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        live = sqlite3.connect(_sqlite_path())
        try:
            backup.execute("PRAGMA schema_version")  # fails early if it is not a database
            with live:
                backup.backup(live)
        finally:
            live.close()
            backup.close()
    elif dialect == "postgresql":
        subprocess.run(  # noqa: S603  # nosec B603
            [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction"]
            + ["--dbname", _libpq_url(), str(source)],
            check=True,
            capture_output=True,
        )
    else:
        raise click.ClickException(f"Restoring {dialect} databases is not supported.")


@bp.cli.command("backup")
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The file to write the backup to.",
)
def backup_command(output: Path) -> None:
    """Back up the database to a file (SQLite online backup, or pg_dump)."""
    try:
        backup_database(output)
    except (sqlite3.Error, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", b"") or b""
        raise click.ClickException(f"Backup failed: {error} {detail.decode()[:500]}") from error
    log.info("backup written", extra={"event": "backup", "file": str(output)})
    click.echo(f"Backup written to {output}.")


@bp.cli.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(source: Path, yes: bool) -> None:
    """Replace the database with a backup made by ``backup``."""
    if not yes:
        click.confirm("This replaces every record in the database. Continue?", abort=True)
    try:
        restore_database(source)
    except (sqlite3.Error, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", b"") or b""
        raise click.ClickException(f"Restore failed: {error} {detail.decode()[:500]}") from error
    log.info("database restored", extra={"event": "restore", "file": str(source)})
    click.echo(f"Database restored from {source}.")
