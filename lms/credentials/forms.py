"""Forms for evidence, requirements, certificates and exam results."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from lms.credentials.models import REVOCATION_LABELS
from lms.credentials.rules import EVIDENCE_LABELS, EvidenceKind


class EvidenceForm(FlaskForm):
    """What the evidence is, a description the reviewer can check, and an optional scan."""

    kind = SelectField(
        "Kind of evidence",
        choices=[
            SelectChoice(kind.value, label.capitalize()) for kind, label in EVIDENCE_LABELS.items()
        ],
        validators=[DataRequired()],
    )
    detail = TextAreaField(
        "Details",
        description="For example: the school or testing centre, and the year awarded.",
        validators=[DataRequired(), Length(max=2000)],
    )
    employer = StringField(
        "Employer (for work experience)",
        validators=[Optional(), Length(max=200)],
    )
    started_on = DateField("First day of the work (for work experience)", validators=[Optional()])
    ended_on = DateField(
        "Last day of the work, or today if you still work there", validators=[Optional()]
    )
    document = FileField(
        "Scan or photo (optional)",
        description="A PDF, PNG or JPEG of at most 10 MB. Only you, your instructors and the "
        "school's admins can open it.",
    )
    submit = SubmitField("Submit for review")

    @property
    def kind_value(self) -> EvidenceKind:
        """The chosen kind of evidence, as the services take it."""
        return EvidenceKind(self.kind.data)


#: The kinds of requirement the builder adds, in the order its list shows them.
BUILDER_KINDS = [
    SelectChoice("all_of", "Group: all of"),
    SelectChoice("any_of", "Group: any one of"),
    SelectChoice("n_of", "Group: at least n of"),
    SelectChoice("module_completed", "Pass a module"),
    SelectChoice("course_completed", "Complete every module of a course"),
    SelectChoice("assessment_score", "A score on a module's quiz or practice exam"),
    SelectChoice("contact_hours", "Contact hours"),
    SelectChoice("evidence", "Verified evidence"),
    SelectChoice("experience_months", "Months of verified work experience"),
]


class RequirementsForm(FlaskForm):
    """A credential's requirement tree as JSON, and the builder's fields that add a node to it
    (each kind uses the fields it needs and ignores the rest)."""

    tree = TextAreaField("Requirements (JSON)", validators=[Optional(), Length(max=100_000)])
    parent = SelectField("Add it to", choices=[], validate_choice=False)
    kind = SelectField("Kind of requirement", choices=BUILDER_KINDS, validate_choice=False)
    module = SelectField("Module", choices=[], validate_choice=False)
    course = SelectField("Course", choices=[], validate_choice=False)
    min_score = DecimalField(
        "Lowest score (%)", places=None, validators=[Optional(), NumberRange(min=0, max=100)]
    )
    within_days = IntegerField("Within the last days", validators=[Optional()])
    evidence = SelectField(
        "Kind of evidence",
        choices=[SelectChoice("", "Choose")]
        + [SelectChoice(kind.value, label.capitalize()) for kind, label in EVIDENCE_LABELS.items()],
        validate_choice=False,
    )
    months = IntegerField("Months of experience", validators=[Optional()])
    hours = DecimalField("Hours", places=None, validators=[Optional()])
    n = IntegerField("How many must be met (at least n of)", validators=[Optional()])
    label = StringField("Label (optional)", validators=[Optional(), Length(max=200)])


class IssueForm(FlaskForm):
    """Issue one student's certificate, or every ready student's (no student id)."""

    student_id = HiddenField()
    submit = SubmitField("Issue")


class RevokeForm(FlaskForm):
    """Revoke a certificate: a public reason from a short list, and a private note."""

    public_reason = SelectField(
        "Reason shown on the verification page",
        choices=[SelectChoice(reason.value, label) for reason, label in REVOCATION_LABELS.items()],
        validators=[InputRequired()],
    )
    note = TextAreaField(
        "Note for the school's records",
        description="Why, in your words. It stays private: the public page shows the reason above.",
        validators=[Length(max=1000)],
    )
    submit = SubmitField("Revoke the certificate")


class ExamOutcomeForm(FlaskForm):
    """The result of a real certification exam."""

    subject_id = SelectField("Student", coerce=int, validators=[InputRequired()])
    exam_date = DateField("Exam date", validators=[InputRequired()])
    result = RadioField(
        "Result",
        choices=[SelectChoice("passed", "Passed"), SelectChoice("failed", "Did not pass")],
        validators=[InputRequired()],
    )
    score = DecimalField(
        "Score, if known",
        description="A percentage, or the body's scaled score (AHIMA scores 100 to 400).",
        places=None,
        validators=[Optional(), NumberRange(min=0, max=1000)],
    )
    submit = SubmitField("Record the result")


class AutoIssueForm(FlaskForm):
    """Turn automatic issue of a cohort's certificates on or off."""

    enabled = RadioField(
        "Issue certificates",
        choices=[
            SelectChoice("1", "Automatically, as soon as a student is ready"),
            SelectChoice("0", "Only when an instructor issues them"),
        ],
        validators=[InputRequired()],
    )
    submit = SubmitField("Save")


class CheckCertificateForm(FlaskForm):
    """A certificate's code, typed by anyone who wants to check it (no login, so no CSRF
    token: the form only reads, by GET)."""

    class Meta:
        csrf = False

    code = StringField(
        "Certificate code",
        description="As printed on the certificate, with or without the dashes.",
        validators=[
            DataRequired(message="Type the code printed on the certificate."),
            Length(max=80),
        ],
    )
    submit = SubmitField("Check")
