"""``flask --app lms import-questions FILE --bank NAME``, ``flask --app lms codes validate
KIND CODE...``, and whole courses: ``export-course CODE -o FILE.zip`` (``--cartridge`` for
IMS Common Cartridge 1.3) and ``import-course FILE [--as NEWCODE] [--dry-run]``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Blueprint, current_app

from lms.courses import interchange
from lms.courses.bank import code_releases, transfer
from lms.courses.codesets import MAX_CODES, icd10cm
from lms.courses.codesets import forms as code_forms
from lms.courses.codesets.releases import LOADABLE, ReleaseError, read_release
from lms.db import utcnow
from lms.errors import Conflict, InvalidInput, NotFound
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


@bp.cli.command("export-course")
@click.argument("code")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--cartridge", is_flag=True, help="Write IMS Common Cartridge 1.3 (.imscc).")
@click.option(
    "--include-drafts",
    is_flag=True,
    help="With --cartridge: also the modules never published (left out otherwise).",
)
def export_course_command(code: str, output: Path, cartridge: bool, include_drafts: bool) -> None:
    """Write a course as a course package (or a Common Cartridge) file. A course package
    holds every module, drafts too; a cartridge leaves out those never published."""
    from lms.courses.packages import cartridge_out, native  # noqa: PLC0415

    try:
        if cartridge:
            body, left_out = cartridge_out.export_course(code, include_drafts=include_drafts)
        else:
            body, left_out = native.export_course(code, utcnow()), []
    except NotFound as error:
        raise click.ClickException(error.message) from error
    output.write_bytes(body)
    click.echo(f"Course {code} written to {output} ({len(body)} bytes).")
    for line in left_out:
        click.echo(f"  not exported: {line}")


@bp.cli.command("import-course")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "as_code", help="Import a copy under this course code.")
@click.option("--dry-run", is_flag=True, help="Only show what would be created.")
def import_course_command(path: Path, as_code: str | None, dry_run: bool) -> None:
    """Import a course package (.zip) or an IMS Common Cartridge (.imscc): all or nothing."""
    from lms.courses.packages import PackageError, load  # noqa: PLC0415

    if path.stat().st_size > load.MAX_UPLOAD:
        raise click.ClickException(f"{path.name}: larger than {load.MAX_UPLOAD} bytes.")
    try:
        report = load.read_any(path.read_bytes(), path.name)
    except PackageError as error:
        raise click.ClickException(f"Nothing imported: {error}") from error
    if as_code:
        from lms.courses.packages.importer import with_code  # noqa: PLC0415

        report.data = with_code(report.data, as_code)
    for line in report.lines():
        click.echo(line)
    try:
        from lms.courses.packages.importer import check_codes  # noqa: PLC0415

        check_codes(report.data, as_code=as_code)
        if dry_run:
            click.echo("Dry run: nothing was written.")
            return
        course = load.import_report(report, actor=None, now=utcnow())
        code = course.code
        db.session.commit()
    except (InvalidInput, Conflict) as error:
        db.session.rollback()
        raise click.ClickException(f"Nothing imported: {error.message}") from error
    except Exception:
        db.session.rollback()
        raise
    click.echo(f"Course {code} imported.")


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


@codes_group.command("load")
@click.argument("kind", type=click.Choice(LOADABLE))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--label", required=True, help="The release's name, e.g. 2027 or 2026-10-01.")
def load_codes_command(kind: str, path: Path, label: str) -> None:
    """Load a code-set release file (CMS's ICD-10-CM order or codes file, CMS's HCPCS file, a
    school's licensed CPT file), then list every code-entry question whose key codes it
    deleted or changed, for an author to review (also at /codes/review)."""
    try:
        codes = read_release(kind, path.read_text(encoding="utf-8", errors="strict"))
    except (ReleaseError, UnicodeDecodeError) as error:
        raise click.ClickException(f"Nothing loaded from {path.name}: {error}") from error
    try:
        code_releases.load_release(None, kind, label, codes, utcnow())
        found = code_releases.review(kind)
        db.session.commit()
    except (InvalidInput, Conflict) as error:
        db.session.rollback()
        raise click.ClickException(f"Nothing loaded: {error.message}") from error
    click.echo(f"Loaded the {kind} release {label}: {len(codes)} codes.")
    if not found.changes:
        click.echo("No code-entry key names a code this release deleted or changed.")
        return
    click.echo(f"Keys to review ({len(found.changes)} codes):")
    for change in found.changes:
        detail = f": {change.detail}" if change.detail else ""
        click.echo(f"  question {change.question_id}: {change.code} {change.change}{detail}")
