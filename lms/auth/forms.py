"""Forms for logging in and out, passwords, and the admin's user management."""

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lms.auth.models import Role


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField("Log in")


class LogoutForm(FlaskForm):
    """Only a CSRF token: logging out is a POST."""

    submit = SubmitField("Log out")


class PasswordChangeForm(FlaskForm):
    """The current password and the new one, twice."""

    current = PasswordField("Current password", validators=[DataRequired(), Length(max=1024)])
    new = PasswordField("New password (at least 12 characters)", validators=[Length(max=1024)])
    repeat = PasswordField("New password again", validators=[Length(max=1024)])
    submit = SubmitField("Change password")


class ResetRequestForm(FlaskForm):
    """The email of the account whose password was forgotten."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    submit = SubmitField("Send me a link")


class ResetPasswordForm(FlaskForm):
    """A new password, twice."""

    new = PasswordField("New password (at least 12 characters)", validators=[Length(max=1024)])
    repeat = PasswordField("New password again", validators=[Length(max=1024)])
    submit = SubmitField("Set the new password")


class UserSearchForm(FlaskForm):
    """Search accounts by name or email, and by role (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField("Name or email", validators=[Optional(), Length(max=200)])
    role = SelectField(
        "Role",
        choices=[SelectChoice("", "Any role")]
        + [SelectChoice(r.value, r.value.capitalize()) for r in Role],
        validators=[Optional()],
    )


class UserRoleForm(FlaskForm):
    """A new role for an account."""

    role = SelectField("Role", choices=[SelectChoice(r.value, r.value.capitalize()) for r in Role])
    submit = SubmitField("Change role")


ROLE_CHOICES = [SelectChoice(r.value, r.value.capitalize()) for r in Role]


class UserForm(FlaskForm):
    """An account's name, email and role: to add one, or to edit one."""

    full_name = StringField("Full name", validators=[Length(max=200)])
    email = EmailField("Email", validators=[Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.STUDENT.value)
    submit = SubmitField("Save")


class ProfileForm(FlaskForm):
    """The user's own name and time zone (the list is set by the view; the service checks
    the choice, so a zone not in it comes back with the service's message)."""

    full_name = StringField("Full name", validators=[Length(max=200)])
    timezone = SelectField(
        "Time zone",
        description="Dates and times on every page are shown in this zone.",
        validate_choice=False,
    )
    submit = SubmitField("Save")


class UserActiveForm(FlaskForm):
    """Only a CSRF token: the button says whether it disables or enables."""

    submit = SubmitField("Apply")


class CodeForm(FlaskForm):
    """The 6-digit code of the authenticator app."""

    code = StringField(
        "6-digit code from your authenticator app",
        validators=[DataRequired(), Length(max=12)],
    )
    submit = SubmitField("Continue")


class TotpDisableForm(FlaskForm):
    """The password, to turn the second factor off."""

    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField("Turn off")


class NotificationsForm(FlaskForm):
    """Which notices a person receives by email (security mail is not among them)."""

    wanted = SelectMultipleField(
        "Email me",
        choices=[],  # set from lms.mail.notices.NOTICE_KINDS by the view
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        validate_choice=False,  # the service names a kind not on the list, beside the field
    )
    submit = SubmitField("Save")


class UnsubscribeForm(FlaskForm):
    """Only a CSRF token: turning a notice off from a mailed link is a POST."""

    submit = SubmitField("Stop these emails")
