"""``flask --app lms seed-demo`` and ``flask --app lms synth``."""

from __future__ import annotations

import time

import click
from flask import Blueprint

from lms import links
from lms.db import utcnow
from lms.demo import seed, synth
from lms.errors import InvalidInput
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
    base = links.public_base_url()
    click.echo(f"Demo logins (password for each: {seed.DEMO_PASSWORD}):")
    for email, role in seed.DEMO_LOGINS:
        click.echo(f"  {role:<10} {email}")
    if result.certificate_code:
        click.echo(f"Issued demo certificate: {base}/verify/{result.certificate_code}")
    if result.revoked_code:
        click.echo(f"Revoked demo certificate: {base}/verify/{result.revoked_code}")


@bp.cli.command("synth")
@click.option("--students", type=int, required=True, help="How many students to make.")
@click.option("--cohorts", type=int, default=1, show_default=True, help="Cohorts to share them.")
@click.option("--modules", type=int, default=57, show_default=True, help="Modules in all.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option(
    "--cohort-sizes",
    default="",
    help="Sizes of the first cohorts, e.g. 10,100,1000; the rest share the other students.",
)
def synth_command(students: int, cohorts: int, modules: int, seed: int, cohort_sizes: str) -> None:
    """Fill an empty database with a synthetic school network, for benchmarks and load tests."""
    try:
        sizes = tuple(int(size) for size in cohort_sizes.split(",") if size.strip())
    except ValueError as error:
        raise click.BadParameter(
            "give whole numbers separated by commas", param_hint="--cohort-sizes"
        ) from error
    parameters = synth.SynthParameters(students, cohorts, modules, seed, sizes)
    started = time.perf_counter()
    try:
        report = synth.synthesise(parameters)
    except InvalidInput as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    seconds = time.perf_counter() - started
    total = sum(report.rows.values())
    click.echo(f"Synthetic school made in {seconds:.1f} s: {total:,} rows in bulk.")
    for table, count in sorted(report.rows.items()):
        click.echo(f"  {table:<18} {count:>12,}")
    leaves = ", ".join(f"{code} {n}" for code, n in report.requirements.items())
    click.echo(f"Requirements per credential: {leaves}.")
    click.echo(f"Logins (password for each: {synth.SYNTH_PASSWORD}):")
    click.echo(f"  admin      admin@{synth.DOMAIN}")
    for cohort in report.cohorts[:3]:
        click.echo(
            f"  instructor {cohort['instructor']} ({cohort['name']}, {cohort['students']} students)"
        )
    click.echo(f"  student    {synth.student_email(1)} ... {synth.student_email(students)}")
