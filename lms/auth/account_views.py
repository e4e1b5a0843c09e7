"""A user's own account: change the password, or reset a forgotten one by email."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from lms.auth import reset, service, sessions
from lms.auth.access import login_required, public
from lms.auth.forms import PasswordChangeForm, ResetPasswordForm, ResetRequestForm
from lms.db import utcnow
from lms.errors import InvalidInput
from lms.extensions import db

bp = Blueprint("account", __name__)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change the password: every other session of the user ends; this one starts afresh."""
    form = PasswordChangeForm()
    status = 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            service.change_password(
                user, form.current.data, form.new.data or "", form.repeat.data or "", utcnow()
            )
        except InvalidInput as error:
            db.session.rollback()
            form.form_errors.append(error.message)
            status = 400
        else:
            db.session.commit()
            sessions.start_session(user)
            flash("Your password is changed. You are logged out everywhere else.", "success")
            return redirect(url_for("auth.home"))
    elif form.is_submitted():
        status = 400
    return render_template("account/password.html", form=form), status


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
def forgot_password():
    """Ask for a reset link by email; the answer is the same whether the account exists."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        reset.request_reset(
            form.email.data,
            utcnow(),
            lambda token: url_for("account.reset_password", token=token, _external=True),
        )
        db.session.commit()
        flash(
            "If an account uses that email, a link to reset its password is on its way. "
            "It works once, within one hour.",
            "info",
        )
        return redirect(url_for("auth.login"))
    status = 400 if form.is_submitted() else 200
    return render_template("account/forgot.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    """Choose a new password with the emailed one-time link."""
    if reset.valid_token(token, utcnow()) is None:
        return render_template("account/reset_invalid.html"), 404
    form = ResetPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            reset.reset_password(token, form.new.data or "", form.repeat.data or "", utcnow())
        except InvalidInput as error:
            db.session.rollback()
            form.form_errors.append(error.message)
            status = 400
        else:
            db.session.commit()
            sessions.end_session()
            flash("Your password is set. Log in with it.", "success")
            return redirect(url_for("auth.login"))
    elif form.is_submitted():
        status = 400
    return render_template("account/reset.html", form=form), status
