"""Forms for students' eligibility evidence."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from lms.credentials.rules import EVIDENCE_LABELS, EvidenceKind


class EvidenceForm(FlaskForm):
    """What the evidence is and a description the reviewer can check."""

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
    submit = SubmitField("Submit for review")

    @property
    def kind_value(self) -> EvidenceKind:
        return EvidenceKind(self.kind.data)
