"""``flask --app lms export ...``: scheduled exports of the ledger and the register."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from flask import Blueprint

from lms import links
from lms.db import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.reports import export_runs, exports

bp = Blueprint("export_cli", __name__, cli_group="export")


def _export(dataset: str, fmt: str, filters: dict, output: str) -> None:
    """Write an export to ``output`` and its manifest to ``output.manifest.json``."""
    now = utcnow()
    try:
        export = export_runs.start_export(
            None,
            dataset,
            fmt,
            filters,
            channel="cli",
            now=now,
            base_url=links.public_base_url(),
        )
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    run_id = export.run_id
    target = Path(output)
    partial = target.with_name(target.name + ".partial")

    def on_done(rows: int, size: int, sha256: str) -> None:
        export_runs.finish_export(run_id, rows, size, sha256, utcnow())
        db.session.commit()

    with partial.open("wb") as handle:
        for chunk in export.body(on_done):
            handle.write(chunk)
    os.replace(partial, target)  # the file appears whole, or not at all
    manifest = export_runs.manifest(export_runs.get_export(run_id))
    manifest["filename"] = target.name
    manifest_path = target.with_name(target.name + ".manifest.json")
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    click.echo(
        f"Wrote {manifest['row_count']} rows to {target} (sha256 {manifest['sha256']}); "
        f"manifest {manifest_path}."
    )


def _filter_options(command):
    for name, help_text in reversed(
        [
            ("cohort", "Cohort number."),
            ("credential", "Credential code, e.g. CPC."),
            ("course", "Course code."),
            ("student", "Student email or number."),
            ("from", "First day, YYYY-MM-DD (UTC)."),
            ("to", "Last day, YYYY-MM-DD (UTC), inclusive."),
            ("kind", "Entry kinds, comma-separated."),
        ]
    ):
        command = click.option(f"--{name}", f"filter_{name}", help=help_text)(command)
    return command


@bp.cli.command("completions")
@click.option(
    "--format", "fmt", type=click.Choice(list(exports.FORMATS)), default="csv", show_default=True
)
@_filter_options
@click.option("-o", "--output", required=True, help="File to write; FILE.manifest.json beside it.")
def export_completions(fmt: str, output: str, **filters: str | None) -> None:
    """Export the completion ledger (with filters) to a file and a manifest."""
    _export("completions", fmt, {k.removeprefix("filter_"): v for k, v in filters.items()}, output)


@bp.cli.command("certificates")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx", "jsonl"]),
    default="csv",
    show_default=True,
)
@_filter_options
@click.option("-o", "--output", required=True, help="File to write; FILE.manifest.json beside it.")
def export_certificates(fmt: str, output: str, **filters: str | None) -> None:
    """Export the certificate register (with status history) to a file and a manifest."""
    _export("certificates", fmt, {k.removeprefix("filter_"): v for k, v in filters.items()}, output)
