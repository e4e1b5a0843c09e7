"""``flask --app lms import-questions FILE --bank NAME`` and ``flask --app lms codes validate
KIND CODE...``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Blueprint, current_app

from lms.courses import interchange
from lms.courses.bank import transfer
from lms.courses.codesets import MAX_CODES, icd10cm
from lms.courses.codesets import forms as code_forms
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


@bp.cli.group("codes")
def codes_group() -> None:
    """Check codes against the code sets."""


@codes_group.command("validate")
@click.argument("kind", type=click.Choice(["icd10cm", *code_forms.KINDS]))
@click.argument("codes", nargs=-1, required=True)
def validate_codes_command(kind: str, codes: tuple[str, ...]) -> None:
    """Check each code, one line each. ICD-10-CM codes are checked against the tabular list
    (and pairs an Excludes1 note forbids are named); CPT, HCPCS and PCS by their form only.
    Exits 1 if any ICD-10-CM code is not billable, or any other code is not well formed."""
    if len(codes) > MAX_CODES:
        raise click.UsageError(
            f"Check at most {MAX_CODES} codes at a time; there are {len(codes)}."
        )
    if kind == "icd10cm":
        checks = [icd10cm.check(code) for code in codes]
        for result in checks:
            click.echo(("ok    " if result.billable else "FAIL  ") + result.message)
        for a, b, note in icd10cm.excludes1_conflicts(codes):
            click.echo(f"NOTE  {a} with {b}: {note}")
        good = all(result.billable for result in checks)
    else:
        forms = [code_forms.check(kind, code) for code in codes]
        for result in forms:
            click.echo(("ok    " if result.well_formed else "FAIL  ") + result.message)
        good = all(result.well_formed for result in forms)
    if not good:
        raise SystemExit(1)
