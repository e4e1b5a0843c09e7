"""Forms for platform registration, deep linking and roster sync."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget


class PlatformForm(FlaskForm):
    """A platform's registration: what its LMS administrator gives the school."""

    name = StringField(
        "Name",
        validators=[DataRequired(), Length(max=200)],
        description="For you, e.g. “District Canvas”.",
    )
    issuer = StringField(
        "Issuer",
        validators=[DataRequired(), Length(max=500)],
        description="e.g. https://canvas.instructure.com, or Moodle's site URL.",
    )
    client_id = StringField("Client id", validators=[DataRequired(), Length(max=255)])
    deployment_ids = TextAreaField(
        "Deployment ids", validators=[DataRequired()], description="One per line."
    )
    auth_login_url = StringField("Authorisation URL", validators=[DataRequired(), Length(max=1000)])
    auth_token_url = StringField("Token URL", validators=[DataRequired(), Length(max=1000)])
    key_set_url = StringField("Key set URL", validators=[DataRequired(), Length(max=1000)])
    submit = SubmitField("Save platform")


class ModuleChoiceForm(FlaskForm):
    """The modules an instructor places in the LMS course."""

    modules = SelectMultipleField(
        "Modules",
        coerce=int,
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        validate_choice=False,
    )
    submit = SubmitField("Place in the course")


class LinkCohortForm(FlaskForm):
    """Which cohort a platform course's roster feeds."""

    cohort_id = SelectField("Cohort", coerce=int, validators=[DataRequired()])
    submit = SubmitField("Link cohort")


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token."""

    submit = SubmitField("Go")
