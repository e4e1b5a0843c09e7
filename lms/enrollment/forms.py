"""Forms for cohorts, enrolments and evidence review."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional


class CohortForm(FlaskForm):
    """A new cohort: its name, credential and dates."""

    name = StringField("Cohort name", validators=[DataRequired(), Length(max=200)])
    credential_id = SelectField("Target credential", coerce=int, validators=[DataRequired()])
    start_date = DateField("Start date", validators=[InputRequired()])
    exam_date = DateField("Target exam date", validators=[Optional()])
    submit = SubmitField("Create cohort")


class EnrollForm(FlaskForm):
    """Enrol an existing student by email."""

    email = EmailField("Student's email", validators=[DataRequired(), Length(max=254)])
    submit = SubmitField("Enrol")


class EvidenceDecisionForm(FlaskForm):
    """Verify or reject a piece of evidence; a rejection needs a reason."""

    reason = TextAreaField("Reason (needed to reject)", validators=[Length(max=1000)])
    verify = SubmitField("Verify")
    reject = SubmitField("Reject")
