"""Joining: a student joins a cohort by its code, and an invited person sets their password."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from lms.auth.access import public, roles_required
from lms.auth.models import Role
from lms.db import utcnow
from lms.enrollment import enrollments, invitations
from lms.enrollment.forms import ActionForm, InvitationForm, JoinForm
from lms.enrollment.rules.cohorts import join_code_problems, normalise_join_code
from lms.enrollment.views import actor, bp
from lms.errors import Conflict, InvalidInput, NotFound
from lms.forms import show_problems


@bp.route("/join", methods=["GET", "POST"])
@roles_required(Role.STUDENT)
def join():
    """A student types a join code."""
    form = JoinForm()
    status = 200
    if form.validate_on_submit():
        # Only the code's shape is checked here: whether a cohort has it is for the join
        # page to say, which is rate-limited against guessing.
        problems = join_code_problems(form.code.data)
        if not problems:
            code = normalise_join_code(form.code.data)
            return redirect(url_for("enrollment.join_code", code=code))
        status = show_problems(form, InvalidInput(problems=problems))
    elif form.is_submitted():
        status = 400
    return render_template("enrollment/join.html", form=form), status


@bp.route("/join/<code>", methods=["GET", "POST"])
@roles_required(Role.STUDENT)
def join_code(code: str):
    """Join a cohort by its code: a confirmation page, then the enrolment. A code that opens
    no cohort (or one closed to joining) brings the join form back, the code in it and the
    reason beside it."""
    form = ActionForm()
    try:
        cohort = enrollments.cohort_by_join_code(code)
        if form.validate_on_submit():
            enrollments.self_enroll(actor(), code, utcnow())
            name = cohort.name
            flash(f"You joined {name}.", "success")
            return redirect(url_for("enrollment.dashboard"))
    except (NotFound, Conflict) as error:
        typed = JoinForm(formdata=None, code=code[:40])
        status = show_problems(typed, error, "code")
        return render_template("enrollment/join.html", form=typed), status
    return render_template("enrollment/join_confirm.html", cohort=cohort, form=form)


@bp.route("/invite/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str):
    """An invited person sets their password; the link works once."""
    now = utcnow()
    invitation = invitations.find_invitation(token, now)
    person = {"full_name": invitation.user.full_name, "email": invitation.user.email}
    form = InvitationForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = invitations.accept_invitation(token, form.password.data, form.confirm.data, now)
        except InvalidInput as error:
            status = show_problems(form, error)
        else:
            email = user.email
            flash(f"Your password is set. Log in with {email}.", "success")
            return redirect(url_for("auth.login"))
    elif form.is_submitted():
        status = 400
    return render_template("enrollment/invitation.html", form=form, person=person), status
