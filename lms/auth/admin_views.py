"""The admin's user management: find accounts, add one, edit its name, email and role,
send it a password reset, disable or enable it; and the mail that could not be sent."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms import links
from lms.auth import reset, service, totp
from lms.auth.access import roles_required
from lms.auth.forms import UserActiveForm, UserForm, UserRoleForm, UserSearchForm
from lms.auth.models import Role
from lms.db import utcnow
from lms.errors import Conflict, InvalidInput, NotFound
from lms.forms import show_problems
from lms.mail import delivery as mail_delivery

bp = Blueprint("users", __name__, url_prefix="/admin/users")


def _back():
    return redirect(url_for("users.user_list", **request.args))


@bp.get("")
@roles_required(Role.ADMIN)
def user_list():
    """Every account, searchable by name, email and role."""
    form = UserSearchForm(request.args)
    role = Role(form.role.data) if form.validate() and form.role.data else None
    users = service.search_users(form.q.data or "", role)
    return render_template(
        "users/list.html",
        form=form,
        users=users,
        with_totp=totp.users_with_totp([u.id for u in users]),
        roles=list(Role),
    )


def _reset_link(token: str) -> str:
    # From the configured public base URL, never the request's Host header.
    return links.external_url("account.reset_password", token=token)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def add_user():
    """Add an account (name, email, role); it gets a link by mail to set its password."""
    form = UserForm()
    status = 200
    if form.validate_on_submit():
        actor = current_user._get_current_object()
        now = utcnow()
        try:
            user = service.create_user(
                email=form.email.data or "",
                full_name=form.full_name.data or "",
                role=Role(form.role.data),
                password=None,
                actor=actor,
                now=now,
            )
        except (InvalidInput, Conflict) as error:
            status = show_problems(form, error)
        else:
            reset.send_welcome(actor, user, now, _reset_link)
            flash(
                f"The account of {user.full_name} is made; a link to set its password is on its "
                f"way to {user.email} (valid {reset.WELCOME_LIFETIME.days} days).",
                "success",
            )
            return redirect(url_for("users.edit_user", user_id=user.id))
    elif form.is_submitted():
        status = 400
    return render_template(
        "users/form.html", form=form, user=None, welcome_days=reset.WELCOME_LIFETIME.days
    ), status


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_user(user_id: int):
    """Change an account's name, email and role (audited, before and after)."""
    user = service.get_user(user_id)
    form = UserForm(obj=None if request.method == "POST" else user)
    if request.method == "GET":
        form.role.data = user.role.value
    status = 200
    if form.validate_on_submit():
        try:
            changes = service.update_user(
                current_user._get_current_object(),
                user,
                full_name=form.full_name.data or "",
                email=form.email.data or "",
                role=Role(form.role.data),
                now=utcnow(),
            )
        except (InvalidInput, Conflict) as error:
            status = show_problems(form, error)
        else:
            flash(
                f"The account of {user.full_name} is saved." if changes else "Nothing changed.",
                "success" if changes else "info",
            )
            return redirect(url_for("users.edit_user", user_id=user.id))
    elif form.is_submitted():
        status = 400
    return render_template("users/form.html", form=form, user=user), status


@bp.post("/<int:user_id>/reset")
@roles_required(Role.ADMIN)
def send_reset(user_id: int):
    """Mail the account a one-time link to choose a new password (audited)."""
    form = UserActiveForm()
    if not form.validate_on_submit():
        raise InvalidInput("The change could not be read. Reload the page and try again.")
    user = service.get_user(user_id)
    reset.send_reset_for(current_user._get_current_object(), user, utcnow(), _reset_link)
    flash(
        f"A link to reset the password is on its way to {user.email}. It works once, within "
        "one hour.",
        "success",
    )
    return redirect(url_for("users.edit_user", user_id=user.id))


@bp.post("/<int:user_id>/role")
@roles_required(Role.ADMIN)
def change_role(user_id: int):
    """Give an account another role (audited)."""
    form = UserRoleForm()
    if not form.validate_on_submit():
        raise InvalidInput("Choose one of the roles.")
    user = service.get_user(user_id)
    changed = service.change_role(
        current_user._get_current_object(), user, Role(form.role.data), utcnow()
    )
    message = f"{user.full_name} is now {user.role.value}." if changed else "Nothing changed."
    flash(message, "success" if changed else "info")
    return _back()


@bp.post("/<int:user_id>/active")
@roles_required(Role.ADMIN)
def set_active(user_id: int):
    """Disable an account (which ends all its sessions) or enable it again (audited)."""
    form = UserActiveForm()
    if not form.validate_on_submit() or request.form.get("active") not in ("0", "1"):
        raise InvalidInput("The change could not be read. Reload the page and try again.")
    user = service.get_user(user_id)
    active = request.form["active"] == "1"
    changed = service.set_active(current_user._get_current_object(), user, active, utcnow())
    state = "enabled" if active else "disabled; all its sessions have ended"
    message = f"The account of {user.full_name} is {state}." if changed else "Nothing changed."
    flash(message, "success" if changed else "info")
    return _back()


@bp.post("/<int:user_id>/author")
@roles_required(Role.ADMIN)
def set_author(user_id: int):
    """Name an instructor an author of course content, or take it back (audited)."""
    form = UserActiveForm()
    if not form.validate_on_submit() or request.form.get("author") not in ("0", "1"):
        raise InvalidInput("The change could not be read. Reload the page and try again.")
    user = service.get_user(user_id)
    author = request.form["author"] == "1"
    changed = service.set_author(current_user._get_current_object(), user, author, utcnow())
    state = "now writes" if author else "no longer writes"
    message = f"{user.full_name} {state} course content." if changed else "Nothing changed."
    flash(message, "success" if changed else "info")
    return _back()


@bp.post("/<int:user_id>/totp/remove")
@roles_required(Role.ADMIN)
def remove_totp(user_id: int):
    """Remove an account's second factor, e.g. after a lost phone (audited)."""
    form = UserActiveForm()
    if not form.validate_on_submit():
        raise InvalidInput("The change could not be read. Reload the page and try again.")
    user = service.get_user(user_id)
    removed = totp.remove_for(current_user._get_current_object(), user, utcnow())
    message = (
        f"The second factor of {user.full_name} is removed; they can set up a new one."
        if removed
        else f"{user.full_name} has no second factor."
    )
    flash(message, "success" if removed else "info")
    return _back()


mail_bp = Blueprint("mail_admin", __name__, url_prefix="/admin/mail")


@mail_bp.get("")
@roles_required(Role.ADMIN)
def failed_mail():
    """The messages given up on after every attempt, with their last error; and how many
    wait for another try."""
    return render_template(
        "users/mail.html", failed=mail_delivery.failed_mail(), waiting=mail_delivery.waiting()
    )


@mail_bp.post("/<int:mail_id>/retry")
@roles_required(Role.ADMIN)
def retry_mail(mail_id: int):
    """Give a failed message another round of attempts (the next ``send-mail`` sends it)."""
    if not UserActiveForm().validate_on_submit():
        raise InvalidInput("The change could not be read. Reload the page and try again.")
    if not mail_delivery.retry(mail_id, utcnow()):
        raise NotFound("There is no failed message with this number.")
    flash("The message will be sent again within a minute.", "success")
    return redirect(url_for("mail_admin.failed_mail"))
