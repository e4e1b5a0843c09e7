"""Login, logout, and the home page that sends each role to its own start page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from lms.auth import service, sessions, totp
from lms.auth.access import login_required, public
from lms.auth.forms import LoginForm, LogoutForm
from lms.auth.models import Role
from lms.db import utcnow
from lms.transactions import keep_when_refused

bp = Blueprint("auth", __name__)

START_PAGES = {
    Role.STUDENT: "enrollment.dashboard",
    Role.INSTRUCTOR: "enrollment.cohort_list",
    Role.ADMIN: "reports.export_page",
}


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths may be redirected to after login."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.get("/")
@public
def home():
    """Send a visitor to the login page, and a user to their role's start page."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for(START_PAGES[current_user.role]))


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Log in with email and password."""
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data, utcnow())
        if user is not None:
            next_page = _safe_next(request.args.get("next"))
            if totp.credential_of(user) is not None:
                sessions.begin_second_factor(user)
                return redirect(url_for("account.login_code", next=next_page))
            sessions.start_session(user)  # a new session: nothing from before carries over
            if totp.is_required(user):
                session[sessions.MUST_ENROL] = True
            flash(f"Welcome, {user.full_name}.", "success")
            return redirect(next_page or url_for("auth.home"))
        form.password.errors.append("The email or password is not right.")
        keep_when_refused()  # the failed try is audited
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["GET", "POST"])
@login_required
def logout():
    """Log out: every session of the user ends, on every device."""
    form = LogoutForm()
    if form.validate_on_submit():
        service.end_all_sessions(current_user._get_current_object(), utcnow())
        sessions.end_session()
        flash("You are logged out.", "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/logout.html", form=form)
