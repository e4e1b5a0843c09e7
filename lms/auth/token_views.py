"""The admin's page for personal access tokens of the JSON API."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange

from lms.auth import tokens
from lms.auth.access import roles_required
from lms.auth.models import Role
from lms.db import utcnow
from lms.errors import InvalidInput
from lms.forms import show_problems

bp = Blueprint("tokens", __name__, url_prefix="/admin/tokens")


class TokenForm(FlaskForm):
    """A name, a scope and a lifetime."""

    name = StringField(
        "Name",
        description="What will use it, e.g. “SIS nightly import”.",
        validators=[DataRequired(), Length(max=100)],
    )
    scope = SelectField(
        "Scope",
        choices=[
            SelectChoice("read", "Read only"),
            SelectChoice("write", "Read and write records"),
            SelectChoice("content:write", "Read, and write courses, modules and lessons"),
        ],
        validators=[DataRequired()],
    )
    days = IntegerField(
        "Expires after (days)",
        default=90,
        validators=[DataRequired(), NumberRange(1, tokens.MAX_LIFETIME_DAYS)],
    )
    submit = SubmitField("Create token")


class RevokeForm(FlaskForm):
    """Only a CSRF token."""


@bp.route("", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def token_list():
    """List my tokens and create a new one; the secret is shown once, on this response."""
    actor = current_user._get_current_object()
    form = TokenForm()
    secret = None
    status = 200
    if form.validate_on_submit():
        try:
            _token, secret = tokens.create_token(
                actor,
                name=form.name.data,
                scope=tokens.TokenScope(form.scope.data),
                days=form.days.data,
                now=utcnow(),
            )
        except InvalidInput as error:
            status = show_problems(form, error)
        else:
            form = TokenForm(formdata=None)
    elif form.is_submitted():
        status = 400
    return render_template(
        "auth/tokens.html",
        form=form,
        secret=secret,
        tokens=tokens.tokens_of(actor),
        revoke_form=RevokeForm(),
        now=utcnow(),
    ), status


@bp.post("/<int:token_id>/revoke")
@roles_required(Role.ADMIN)
def revoke(token_id: int):
    """Revoke one of my tokens."""
    form = RevokeForm()
    if not form.validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(url_for("tokens.token_list"))
    token = tokens.revoke_token(current_user._get_current_object(), token_id, utcnow())
    name = token.name
    flash(f"The token “{name}” is revoked.", "success")
    return redirect(url_for("tokens.token_list"))
