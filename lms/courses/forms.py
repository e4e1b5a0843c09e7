"""Forms for taking a quiz and for managing question banks and quizzes."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, NumberRange, Optional
from wtforms.widgets import TextInput

from lms.errors import InvalidInput
from lms.forms import whole_number

ANSWER_PREFIX = "q-"
#: A code-entry question's boxes: ``codes-<question id>-<box number from 0>=<text typed>``.
CODES_PREFIX = "codes-"
MAX_BOXES_SENT = 10
#: The player's "flag for review" checkboxes: ``flag=<question id>``, one per flagged
#: question, and ``flags=shown`` saying the form showed them (so none checked means none).
FLAG_FIELD = "flag"
FLAGS_SHOWN = "flags"


class QuizForm(FlaskForm):
    """Carries the CSRF token; the answers are radio groups named ``q-<question id>``."""


def parse_answers(form: MultiDict[str, str]) -> dict[int, frozenset[int]]:
    """Read ``q-<question id>=<choice id>`` pairs, refusing anything that is not an id (ASCII
    digits within the database's integers: "²" passes ``str.isdigit`` but not ``int``)."""
    answers: dict[int, frozenset[int]] = {}
    for key in form:
        if not key.startswith(ANSWER_PREFIX):
            continue
        question_id = whole_number(key[len(ANSWER_PREFIX) :])
        choice_ids = [whole_number(value) for value in form.getlist(key)]
        if question_id is None or None in choice_ids:
            raise InvalidInput("The answers were not sent in the expected form.")
        answers[question_id] = frozenset(choice_ids)
    answers.update(_parse_codes(form))
    return answers


def _parse_codes(form: MultiDict[str, str]) -> dict[int, tuple[str, ...]]:
    """Read the text typed in each box of the code-entry questions, box by box in order."""
    boxes: dict[int, dict[int, str]] = {}
    for key in form:
        if not key.startswith(CODES_PREFIX):
            continue
        question, _, box = key[len(CODES_PREFIX) :].partition("-")
        question_id, box_index = whole_number(question), whole_number(box)
        if question_id is None or box_index is None or box_index >= MAX_BOXES_SENT:
            raise InvalidInput("The answers were not sent in the expected form.")
        boxes.setdefault(question_id, {})[box_index] = form.get(key, "")
    typed = {}
    for question_id, texts in boxes.items():
        if sorted(texts) != list(range(len(texts))):
            raise InvalidInput("The answers were not sent in the expected form.")
        typed[question_id] = tuple(texts[index] for index in range(len(texts)))
    return typed


def parse_flags(form: MultiDict[str, str]) -> frozenset[int] | None:
    """The questions flagged for review, or ``None`` when the form did not show the flags
    (the module page's one-go quiz, the API): then the saved flags are left as they are."""
    if form.get(FLAGS_SHOWN) != "shown":
        return None
    ids = [whole_number(value) for value in form.getlist(FLAG_FIELD)]
    if None in ids:
        raise InvalidInput("The flags were not sent in the expected form.")
    return frozenset(ids)


class TagListField(Field):
    """Tags typed as one comma-separated line; the field's data is the list of tags."""

    widget = TextInput()

    def _value(self) -> str:
        return ", ".join(self.data or [])

    def process_formdata(self, valuelist: list[str]) -> None:
        """Split the typed line into tags, dropping empty ones."""
        text = valuelist[0] if valuelist else ""
        self.data = [tag.strip() for tag in text.split(",") if tag.strip()]


class QuestionForm(FlaskForm):
    """Write or edit a question in a bank."""

    stem = TextAreaField("Question", validators=[DataRequired()])
    kind = SelectField(
        "Type",
        choices=[
            SelectChoice("single", "Multiple choice, one answer"),
            SelectChoice("multiple", "Multiple choice, several answers"),
            SelectChoice("true_false", "True / false"),
            SelectChoice("code_entry", "Code entry: a case and boxes for codes"),
        ],
    )
    case = TextAreaField(
        "Case (code entry)",
        description="The note the student codes from, in plain text (no HTML).",
    )
    boxes = TextAreaField(
        "Key (code entry)",
        description="One box per line [label] code set order (code sets: icd10cm, cpt, hcpcs, "
        "icd10pcs; order: any, first, exact), then one line per code: codes that may replace "
        "each other joined by 'or', modifiers after a hyphen (99214-25), and after ';' the "
        "feedback on that code. E.g. [Diagnoses] icd10cm first / E11.621 ; first-listed / "
        "L97.411",
    )
    choices = TextAreaField(
        "Choices",
        description="One choice per line; start each correct choice with *. "
        "For true/false write the two lines True and False.",
    )
    rationale = TextAreaField("Rationale (shown after answering)")
    content_area = StringField("Content area", description="e.g. ICD-10-CM chapter 9")
    difficulty = SelectField(
        "Difficulty",
        choices=[
            SelectChoice("", "Not set"),
            SelectChoice("easy", "Easy"),
            SelectChoice("medium", "Medium"),
            SelectChoice("hard", "Hard"),
        ],
    )
    code_set_year = StringField(
        "Code-set year", description="e.g. 2026; empty if not tied to a year"
    )
    tags = TagListField("Other tags", description="Comma-separated")


class ImportForm(FlaskForm):
    """Upload a GIFT, Aiken or Moodle XML file into a bank."""

    file = FileField("File", validators=[FileRequired()])
    fmt = SelectField(
        "Format",
        choices=[
            SelectChoice("", "Tell from the file"),
            SelectChoice("gift", "GIFT"),
            SelectChoice("aiken", "Aiken"),
            SelectChoice("moodle_xml", "Moodle XML"),
        ],
    )
    bank = StringField("Bank", validators=[DataRequired()], description="An existing or new bank")


class ConfirmImportForm(FlaskForm):
    """Carries the previewed file back for the import itself."""

    content = HiddenField(validators=[DataRequired()])
    fmt = HiddenField(validators=[DataRequired()])
    bank = HiddenField(validators=[DataRequired()])


class QuizSettingsForm(FlaskForm):
    """A quiz's rules: passing score, time, attempts, review policy, preset, blueprint."""

    passing_score = IntegerField("Passing score (%)", validators=[NumberRange(0, 100)])
    time_limit_minutes = IntegerField(
        "Time limit (minutes)",
        validators=[Optional(), NumberRange(1, 24 * 60)],
        description="Empty for an untimed quiz",
    )
    max_attempts = IntegerField(
        "Attempts allowed",
        validators=[Optional(), NumberRange(1, 100)],
        description="Empty for no limit",
    )
    review_policy = SelectField(
        "Show the correct answers",
        choices=[
            SelectChoice("after_attempt", "After each attempt"),
            SelectChoice("after_passing", "Only after passing"),
            SelectChoice("never", "Never"),
        ],
    )
    preset = SelectField("Exam preset", choices=[SelectChoice("", "None")])
    bank_id = SelectField("Bank the blueprint draws from", coerce=int, choices=[])
    blueprint = TextAreaField(
        "Blueprint",
        description="One line per tag: 'tag: number of questions'. Empty for the fixed list.",
    )
    open_book = BooleanField(
        "Open book: offer the code look-up during an attempt",
        description="Closed book (unticked), the player offers no look-up, as in a "
        "closed-book exam.",
    )


class ExamModuleForm(FlaskForm):
    """Add a practice exam (a module holding only a quiz) to a course."""

    code = StringField(
        "Module code", validators=[DataRequired()], description="e.g. CPC-PRACTICE-2"
    )
    title = StringField("Title", validators=[DataRequired()])


class CourseImportForm(FlaskForm):
    """Upload a course package (.zip) or a Common Cartridge (.imscc) to preview its import."""

    file = FileField("Course file", validators=[FileRequired()])
    as_code = StringField(
        "Import as course code",
        description="Optional: a new code, for a copy beside a course with the file's code",
    )


class ConfirmCourseImportForm(FlaskForm):
    """Carries the previewed course file back for the import itself."""

    content = HiddenField(validators=[DataRequired()])
    filename = HiddenField(validators=[DataRequired()])
    as_code = HiddenField()


class KeyReviewForm(FlaskForm):
    """Mark a code-entry question's key reviewed against the newest release of a code set."""

    code_set = HiddenField(validators=[DataRequired()])


class MediaUploadForm(FlaskForm):
    """Upload a file for a course's lessons."""

    file = FileField("File (image, PDF, audio, video, captions)", validators=[FileRequired()])


class CourseForm(FlaskForm):
    """A course's code, title, topic area, description and gating (authors)."""

    code = StringField(
        "Course code", description="2 to 20 capital letters, digits and hyphens, e.g. CPT-SURG"
    )
    title = StringField("Title")
    topic_area = StringField("Topic area", description="e.g. coding, billing, terminology")
    description = TextAreaField("Description")
    sequential = BooleanField("Open modules in order (module N opens when N-1 is complete)")


class ModuleForm(FlaskForm):
    """A module's draft: code (until first published), title, time, and lesson Markdown."""

    code = StringField(
        "Module code",
        description="Unique in the school, e.g. CPT-SURG-1; fixed once the module is published",
    )
    title = StringField("Title")
    estimated_minutes = IntegerField(
        "Estimated minutes", validators=[Optional()], widget=TextInput()
    )
    passing_score = IntegerField(
        "Passing score of the quiz (%)",
        validators=[Optional(), NumberRange(0, 100)],
        widget=TextInput(),
    )
    lesson_markdown = TextAreaField(
        "Lesson (Markdown)",
        description="One # heading (the lesson's title), ## sections, tables with | bars, "
        "code in backticks; images as ![what it shows](media/file.png). No HTML.",
    )
    revision = HiddenField()


class PublishForm(FlaskForm):
    """Publish the draft the author has read, with a note saying what changed."""

    note = TextAreaField("What this version changes")
    revision = HiddenField()


class RestoreForm(FlaskForm):
    """Publish an earlier version again."""

    discard_draft = BooleanField("Discard the draft's unpublished changes")


class ConfirmForm(FlaskForm):
    """Carries the CSRF token of a one-button action (archive, delete, move)."""


class NewQuizForm(FlaskForm):
    """Give a module its quiz: a title, the bank it draws on, a passing score."""

    title = StringField("Quiz title")
    bank_id = SelectField("Question bank", coerce=int, choices=[])
    passing_score = IntegerField(
        "Passing score (%)", default=80, validators=[Optional(), NumberRange(0, 100)]
    )
