"""A user's own account: profile (name, time zone), password change and reset by email, and
the TOTP second factor."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from lms import links
from lms.auth import reset, service, sessions, totp
from lms.auth.access import login_required, public
from lms.auth.forms import (
    CodeForm,
    NotificationsForm,
    PasswordChangeForm,
    ProfileForm,
    ResetPasswordForm,
    ResetRequestForm,
    TotpDisableForm,
    UnsubscribeForm,
)
from lms.auth.views import _safe_next
from lms.db import utcnow
from lms.errors import InvalidInput, NotFound
from lms.forms import show_problems
from lms.mail import notices
from lms.transactions import keep_when_refused

bp = Blueprint("account", __name__)


@bp.route("/account/profile", methods=["GET", "POST"])
@login_required
def profile():
    """The user's own name and time zone: every date and time is then shown in that zone."""
    user = current_user._get_current_object()
    form = ProfileForm(obj=None if request.method == "POST" else user)
    form.timezone.choices = list(service.time_zone_names())
    status = 200
    if form.validate_on_submit():
        try:
            changes = service.update_profile(
                user,
                full_name=form.full_name.data or "",
                timezone=form.timezone.data or "",
                now=utcnow(),
            )
        except InvalidInput as error:
            status = show_problems(form, error)
        else:
            flash("Your profile is saved." if changes else "Nothing changed.", "success")
            return redirect(url_for("account.profile"))
    elif form.is_submitted():
        status = 400
    return render_template("account/profile.html", form=form), status


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
            status = show_problems(form, error)
        else:
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
            lambda token: links.external_url("account.reset_password", token=token),
        )
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
            status = show_problems(form, error)
        else:
            sessions.end_session()
            flash("Your password is set. Log in with it.", "success")
            return redirect(url_for("auth.login"))
    elif form.is_submitted():
        status = 400
    return render_template("account/reset.html", form=form), status


# --- second factor ----------------------------------------------------------------------

ENROL_ALLOWED_ENDPOINTS = {
    "account.totp_setup",
    "auth.login",
    "auth.logout",
    "static",
    "health.healthz",
}
SETUP_NONCE = "totp_setup_nonce"


@bp.before_app_request
def require_enrolment():
    """An admin the school requires to use a second factor sets it up before anything else."""
    if session.get(sessions.MUST_ENROL) and request.endpoint not in ENROL_ALLOWED_ENDPOINTS:
        if current_user.is_authenticated and totp.credential_of(current_user) is None:
            flash("Your school requires a second factor for admins: set it up now.", "info")
            return redirect(url_for("account.totp_setup"))
        session.pop(sessions.MUST_ENROL, None)
    return None


@bp.route("/login/code", methods=["GET", "POST"])
@public
def login_code():
    """The second step of logging in: the code of the user's authenticator app."""
    user = sessions.second_factor_user()
    if user is None:
        flash("Log in with your email and password first.", "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        ok = totp.verify_login_code(user, form.code.data, utcnow())
        if ok:
            sessions.start_session(user)
            flash(f"Welcome, {user.full_name}.", "success")
            return redirect(_safe_next(request.args.get("next")) or url_for("auth.home"))
        form.code.errors.append("That code is not right, or was already used.")
        keep_when_refused()  # the failed try is audited
        status = 401
    elif form.is_submitted():
        status = 400
    return render_template("account/login_code.html", form=form), status


@bp.route("/account/totp", methods=["GET", "POST"])
@login_required
def totp_setup():
    """Set up the second factor: scan the QR code, type one code to confirm."""
    user = current_user._get_current_object()
    if totp.credential_of(user) is not None:
        return render_template(
            "account/totp_enabled.html",
            form=TotpDisableForm(),
            required=totp.is_required(user),
        )
    nonce = session.get(SETUP_NONCE) or totp.setup_nonce()
    session[SETUP_NONCE] = nonce
    secret = totp.pending_secret(user, nonce, current_app.config["SECRET_KEY"])
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            totp.enrol(user, secret, form.code.data, utcnow())
        except InvalidInput as error:
            status = show_problems(form, error, default_field="code")
        else:
            session.pop(SETUP_NONCE, None)
            session.pop(sessions.MUST_ENROL, None)
            flash("Your second factor is on: login will ask for a code.", "success")
            return redirect(url_for("auth.home"))
    elif form.is_submitted():
        status = 400
    uri = totp.provisioning_uri(user, secret)
    return render_template(
        "account/totp_setup.html",
        form=form,
        qr_code=totp.qr_code_data_uri(uri),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    ), status


@bp.post("/account/totp/disable")
@login_required
def totp_disable():
    """Turn the second factor off (password needed; not where the school requires it)."""
    form = TotpDisableForm()
    if not form.validate_on_submit():
        raise InvalidInput("Give your password to turn the second factor off.")
    totp.disable(current_user._get_current_object(), form.password.data, utcnow())
    flash("Your second factor is off.", "success")
    return redirect(url_for("account.totp_setup"))


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def notifications():
    """Choose which notices come by email; invitations and reset links always do."""
    user = current_user._get_current_object()
    form = NotificationsForm()
    offered = notices.kinds_for(user.role.value)
    form.wanted.choices = list(offered.items())
    status = 200
    if form.validate_on_submit():
        try:
            notices.set_wanted(user.id, user.role.value, form.wanted.data or [], utcnow())
        except InvalidInput as error:
            status = show_problems(form, error)
        else:
            flash("Your email choices are saved.", "success")
            return redirect(url_for("account.notifications"))
    elif form.is_submitted():
        status = 400
    else:
        form.wanted.data = [k for k in offered if k not in notices.opted_out(user.id)]
    return render_template("account/notifications.html", form=form), status


@bp.route("/mail/unsubscribe/<token>", methods=["GET", "POST"])
@public
def unsubscribe(token: str):
    """Turn off one kind of notice from the link in the mail, without logging in. The GET
    only asks (mail scanners open links); the button posts."""
    user_id, kind = notices.read_unsubscribe_token(token)
    try:
        user = service.get_user(user_id)
    except NotFound as error:  # the account was deleted since
        raise NotFound("This unsubscribe link is not valid.") from error
    form = UnsubscribeForm()
    done = False
    if form.validate_on_submit():
        notices.unsubscribe(user.id, kind, utcnow())
        done = True
    elif form.is_submitted():
        return render_template(
            "account/unsubscribe.html", form=form, what=notices.NOTICE_KINDS[kind], done=False
        ), 400
    return render_template(
        "account/unsubscribe.html", form=form, what=notices.NOTICE_KINDS[kind], done=done
    )
