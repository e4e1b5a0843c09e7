"""``flask --app lms import-questions FILE --bank NAME``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Blueprint, current_app

from lms.courses import interchange
from lms.courses.bank import transfer
from lms.db import utcnow
from lms.errors import InvalidInput
from lms.extensions import db

bp = Blueprint("courses_cli", __name__, cli_group=None)


@bp.cli.command("import-questions")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--bank", "bank_name", required=True, help="The bank to import into (made if new).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(interchange.FORMATS),
    help="gift, aiken or moodle_xml; by default told from the content (then the extension).",
)
@click.option("--dry-run", is_flag=True, help="Only show what would be imported.")
def import_questions_command(path: Path, bank_name: str, fmt: str | None, dry_run: bool) -> None:
    """Import GIFT, Aiken or Moodle XML questions into a bank: all of them, or none."""
    limits = interchange.Limits.from_config(current_app.config)
    with path.open("rb") as file:
        data = file.read(limits.max_bytes + 1)  # what is past the limit stays unread
    fmt = fmt or interchange.guess_format(data, path.name)
    if fmt is None:
        raise click.UsageError("Cannot tell the format from the file; pass --format.")
    result = transfer.preview_import(data, fmt, limits)
    summary = interchange.summarise(result, problems=len(result.problems))
    for label, count in summary.by_kind:
        click.echo(f"  {count:>5}  {label}")
    for area, count in summary.by_area:
        click.echo(f"  {count:>5}  in {area}")
    if summary.more_areas:
        click.echo(f"         ... and {summary.more_areas} more content areas")
    for problem in summary.problems:
        click.echo(f"  FAIL {problem}", err=True)
    if not result.ok:
        raise click.ClickException(
            f"Nothing imported: {len(result.problems)} problem(s) in {path.name}."
        )
    if dry_run:
        click.echo(f"{len(result.items)} questions would be imported (dry run).")
        return
    try:
        bank, _ = transfer.import_questions(None, bank_name, data, fmt, utcnow(), limits)
    except InvalidInput as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    name = bank.name
    db.session.commit()
    click.echo(f"{len(result.items)} questions imported into bank {name!r}.")
