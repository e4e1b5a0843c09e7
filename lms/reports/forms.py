"""The audit log's search form: read by GET, so it carries no CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, StringField
from wtforms.validators import NumberRange, Optional


class AuditSearchForm(FlaskForm):
    """Who, what, which record and when; every field may be left empty."""

    class Meta:
        csrf = False

    actor = StringField("Actor email", validators=[Optional()])
    action = StringField("Action starts with", validators=[Optional()])
    target_type = StringField("Target type", validators=[Optional()])
    target_id = StringField("Target id", validators=[Optional()])
    from_ = DateField(
        "From (date, UTC)",
        name="from",
        validators=[Optional()],
        render_kw={"type": "date"},
    )
    to = DateField("To (date, UTC)", validators=[Optional()], render_kw={"type": "date"})
    page = IntegerField(
        "Page",
        default=1,
        validators=[Optional(), NumberRange(1, 100_000, "The page must be from 1 to 100000.")],
    )

    def validate(self, extra_validators=None) -> bool:
        """The fields, then a range that runs forwards."""
        if not super().validate(extra_validators):
            return False
        if self.from_.data and self.to.data and self.from_.data > self.to.data:
            self.to.errors = ["The range is backwards: this date is before the From date."]
            return False
        return True
