"""The school's public keys, one JWK set at the two addresses verifiers and LMSs know
(``/.well-known/jwks.json`` for Open Badges, ``/lti/jwks.json`` for LTI platforms), and the
``flask --app lms keys ...`` commands that rotate them."""

from __future__ import annotations

import click
from flask import Blueprint, jsonify

from lms import csp, signing
from lms.auth.access import public

bp = Blueprint("keys", __name__, cli_group="keys")


@bp.get("/.well-known/jwks.json")
@public
def jwks():
    """Every published public key, for anyone to check what the school signed."""
    response = jsonify(signing.store().jwks())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return csp.open_to_any_origin(response)


# The address LMS administrators paste into their platform: the same view, the same set.
bp.add_url_rule("/lti/jwks.json", endpoint="lti_jwks", view_func=jwks)


@bp.cli.command("list")
def list_command() -> None:
    """List the published keys; the first signs."""
    for number, key in enumerate(signing.store().published()):
        role = "signs" if number == 0 else "published"
        click.echo(f"{key.kid}  {role:<9}  {key.source}")


@bp.cli.command("rotate")
def rotate_command() -> None:
    """Make a new key that signs from now on (the older ones stay published)."""
    key = signing.store().rotate()
    click.echo(f"New signing key {key.kid} ({key.source}). Older keys stay published.")


@bp.cli.command("retire")
@click.argument("kid")
def retire_command(kid: str) -> None:
    """Stop publishing a key (once nothing it signed is still in use)."""
    try:
        path = signing.store().retire(kid)
    except (KeyError, ValueError) as error:
        raise click.ClickException(str(error).strip("'")) from error
    click.echo(f"Key {kid} is no longer published; its file is now {path}.")
