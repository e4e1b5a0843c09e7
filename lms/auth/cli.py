"""``flask --app lms create-user``."""

from __future__ import annotations

import click
from flask import Blueprint

from lms.auth import service
from lms.auth.models import Role
from lms.db import utcnow
from lms.errors import DomainError
from lms.extensions import db

bp = Blueprint("auth_cli", __name__, cli_group=None)


@bp.cli.command("create-user")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.STUDENT.value,
    show_default=True,
)
@click.option("--name", "full_name", help="Full name (asked for when missing).")
@click.password_option(help="Password, at least 12 characters (asked for when missing).")
def create_user_command(email: str, role: str, full_name: str | None, password: str) -> None:
    """Create an account with the given role."""
    if not full_name:
        full_name = click.prompt("Full name")
    try:
        user = service.create_user(
            email=email,
            full_name=full_name,
            role=Role(role),
            password=password,
            actor=None,
            now=utcnow(),
        )
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email}.")
