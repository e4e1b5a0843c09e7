"""Forms for cohorts, enrolments, rosters, overrides, study plans and evidence review."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from lms.courses.rules.timing import EXTRA_TIME_MULTIPLIERS
from lms.enrollment.rules.cohorts import (
    FAILED_ATTEMPTS,
    INACTIVITY_DAYS,
    MAX_NAME_LENGTH,
    CohortSettings,
    cohort_problems,
)


class CohortForm(FlaskForm):
    """A cohort: its name, credential, dates and at-risk policy."""

    name = StringField("Cohort name", validators=[DataRequired(), Length(max=MAX_NAME_LENGTH)])
    credential_id = SelectField("Target credential", coerce=int, validators=[DataRequired()])
    start_date = DateField("Start date", validators=[InputRequired()])
    exam_date = DateField("Target exam date", validators=[Optional()])
    inactivity_days = IntegerField(
        "Days without activity before a student is flagged",
        validators=[Optional(), NumberRange(*INACTIVITY_DAYS)],
        description="Leave empty for the school's default.",
    )
    failed_attempts_limit = IntegerField(
        "Failed attempts on one module before a student is flagged",
        validators=[Optional(), NumberRange(*FAILED_ATTEMPTS)],
        description="Leave empty for the school's default.",
    )
    submit = SubmitField("Save cohort")

    def validate(self, extra_validators=None) -> bool:
        """Each field's own checks, then the cohort rule's on the fields that passed them (an
        exam date before the start), so that every mistake is shown at once. The service
        checks again, with the names its instructors already use."""
        valid = super().validate(extra_validators)
        settings = CohortSettings(
            name=self.name.data or "",
            start_date=self.start_date.data,
            exam_date=self.exam_date.data,
            inactivity_days=self.inactivity_days.data,
            failed_attempts_limit=self.failed_attempts_limit.data,
        )
        for problem in cohort_problems(settings, taken_names=()):
            field = self._fields[problem.field]
            if not field.errors:
                field.errors.append(problem.message)
                valid = False
        return valid


class EnrollForm(FlaskForm):
    """Enrol a student by email; a name invites someone who has no account yet."""

    email = EmailField("Student's email", validators=[DataRequired(), Length(max=254)])
    full_name = StringField(
        "Full name (only for a new student)",
        validators=[Optional(), Length(max=200)],
        description="A person without an account gets one, and an email to set a password.",
    )
    student_number = StringField("Student id (optional)", validators=[Optional(), Length(max=40)])
    submit = SubmitField("Enrol")


class InstructorForm(FlaskForm):
    """Add a co-instructor by email."""

    email = EmailField("Instructor's email", validators=[DataRequired(), Length(max=254)])


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (and maybe which action)."""

    action = HiddenField()


class PlaceAnswerForm(FlaskForm):
    """A student's answer to a place in a cohort an instructor offered: the button pressed."""

    answer = HiddenField(validators=[AnyOf(["accept", "decline"])])


class JoinForm(FlaskForm):
    """A student types a cohort's join code."""

    code = StringField("Join code", validators=[DataRequired(), Length(max=40)])


class RosterUploadForm(FlaskForm):
    """A roster CSV to preview."""

    file = FileField("Roster file (CSV)", validators=[FileRequired("Choose a CSV file.")])


class RosterConfirmForm(FlaskForm):
    """Confirm the previewed rows."""

    token = HiddenField(validators=[DataRequired()])


class WithdrawForm(FlaskForm):
    """Withdraw a student from a cohort."""

    reason = TextAreaField("Reason (optional)", validators=[Length(max=1000)])


class MoveForm(FlaskForm):
    """Move a student to another cohort."""

    target = SelectField("Move to", coerce=int, validators=[DataRequired()])


class OverrideForm(FlaskForm):
    """Mark a requirement met or not met, or reverse an override; a reason is required."""

    key = SelectField("Requirement", validators=[DataRequired()])
    decision = SelectField(
        "Decision",
        choices=[
            SelectChoice("met", "Mark met"),
            SelectChoice("not_met", "Mark not met"),
            SelectChoice("revoke", "Reverse the override"),
        ],
        validators=[DataRequired()],
    )
    reason = TextAreaField("Reason", validators=[Length(max=1000)])


class ExtraTimeForm(FlaskForm):
    """Grant or change a student's extra time on timed quizzes; a reason is required. The
    multiplier is checked by the service (``timing.extra_time_problems``)."""

    multiplier = SelectField(
        "Extra time",
        choices=[SelectChoice("", "Choose…")]
        + [
            SelectChoice(f"{m:g}", f"{m:g} × the time limit ({m * 60:g} min for a 60-minute quiz)")
            for m in EXTRA_TIME_MULTIPLIERS
        ],
        validate_choice=False,
    )
    # (not labelled "Reason": the override's field on the same page is)
    grant_reason = TextAreaField(
        "Why the student needs it",
        description="Required; kept in the audit log (for example the disability office's letter).",
        validators=[Length(max=1000)],
    )


class EndExtraTimeForm(FlaskForm):
    """End a student's extra time; a reason is required."""

    end_reason = TextAreaField("Why it ends", validators=[Length(max=1000)])


class DueDateForm(FlaskForm):
    """Move one module's due date."""

    module_code = HiddenField(validators=[DataRequired("Choose a module of the plan.")])
    due_on = DateField(
        "New due date", validators=[InputRequired("Give the new due date, as YYYY-MM-DD.")]
    )


class ExamBookingForm(FlaskForm):
    """The exam date a student booked and who pays the fee."""

    booked_on = DateField("Exam date I booked", validators=[Optional()])
    employer_paid = BooleanField("My employer pays the exam fee")


class InvitationForm(FlaskForm):
    """Set a password from an invitation link."""

    password = PasswordField("New password", validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField("Repeat the password", validators=[DataRequired(), Length(max=200)])


class EvidenceDecisionForm(FlaskForm):
    """Verify or reject a piece of evidence; a rejection needs a reason."""

    reason = TextAreaField("Reason (needed to reject)", validators=[Length(max=1000)])
    verify = SubmitField("Verify")
    reject = SubmitField("Reject")


class AnnouncementForm(FlaskForm):
    """A title and a text for every student of a cohort."""

    title = StringField("Title", validators=[Length(max=200)])
    body = TextAreaField(
        "Text",
        description="Students see it on their dashboard and get it as a notice and by email.",
        validators=[Length(max=5000)],
    )


class CalendarLinkForm(FlaskForm):
    """Make the calendar feed's secret link, or reset it (which must be confirmed)."""

    confirm = BooleanField("I understand that calendars subscribed to the old link stop updating")
