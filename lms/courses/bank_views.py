"""Question banks, question authoring, import/export, quiz settings and item analysis
(instructors and admins)."""

from __future__ import annotations

import base64
import binascii
import zlib

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from wtforms import SelectChoice

from lms import headers
from lms.auth.access import roles_required
from lms.auth.models import Role
from lms.courses import blueprints, catalogue, interchange
from lms.courses.bank import EDIT_BANKS, analysis, questions, quizzes, transfer
from lms.courses.forms import (
    ConfirmImportForm,
    ExamModuleForm,
    ImportForm,
    QuestionForm,
    QuizForm,
    QuizSettingsForm,
)
from lms.courses.models import QuestionKind
from lms.courses.rules import code_entry, drawing
from lms.courses.rules.questions import choices_text
from lms.courses.rules.quizzes import PRESETS, QuizSettings, blueprint_departures
from lms.db import utcnow
from lms.errors import DomainError, InvalidInput
from lms.forms import oversized_upload, show_problems, takes_uploads
from lms.transactions import writes_on_get

bp = Blueprint("bank", __name__)
STAFF = (Role.INSTRUCTOR, Role.ADMIN)


def _actor():
    return current_user._get_current_object()


def _authors_only() -> None:
    """Refuse (403) an instructor who is not a content author before any form is shown: the
    services refuse the change too, this spares them a form they cannot send."""
    catalogue.require_author(_actor(), EDIT_BANKS)


@bp.get("/banks")
@roles_required(*STAFF)
def bank_list():
    """Every question bank, and the import form."""
    return render_template(
        "courses/bank_list.html", banks=questions.list_banks(), form=ImportForm()
    )


@bp.get("/banks/<int:bank_id>")
@roles_required(*STAFF)
def bank_page(bank_id: int):
    """A bank's questions, with their tags and versions."""
    bank = questions.get_bank(bank_id)
    show_retired = request.args.get("retired") == "1"
    listed = questions.bank_questions(bank.id, include_retired=show_retired)
    return render_template(
        "courses/bank.html",
        bank=bank,
        questions=listed,
        left_out=transfer.left_out_of_moodle([q for q in listed if q.retired_at is None]),
        show_retired=show_retired,
        tags=blueprints.tag_counts(bank.id),
        form=QuestionForm(),
    )


def _form_with(question=None) -> QuestionForm:
    form = QuestionForm()
    if question is not None and request.method == "GET":
        draft = questions.draft_of(question)
        form.stem.data = draft.stem
        form.kind.data = draft.kind
        form.choices.data = choices_text(draft.choices)
        form.rationale.data = draft.rationale
        form.content_area.data = draft.content_area
        form.difficulty.data = draft.difficulty
        form.code_set_year.data = str(draft.code_set_year or "")
        form.tags.data = list(draft.tags)
        if question.kind is QuestionKind.CODE_ENTRY:
            form.case.data = question.case_text or ""
            form.boxes.data = code_entry.key_text(code_entry.boxes_of(question.code_boxes))
    return form


def _save_question(form: QuestionForm, save):
    """Validate the form and call ``save(draft)``: the question, or ``None`` and the status
    to answer (each problem of a refusal is shown beside its field)."""
    if not form.validate_on_submit():
        return None, 400 if request.method == "POST" else 200
    try:
        if form.kind.data == QuestionKind.CODE_ENTRY.value:
            return save(questions.code_entry_data(form.data)), 200
        return save(questions.draft_from_form(form.data)), 200
    except DomainError as error:
        return None, show_problems(form, error)


def _create(bank_id: int, draft):
    """A new question of either kind: a draft of choices, or a code-entry question's data."""
    if isinstance(draft, dict):
        return questions.create_code_entry(_actor(), bank_id, draft, utcnow())
    return questions.create_question(_actor(), bank_id, draft, utcnow())


def _update(question_id: int, draft):
    if isinstance(draft, dict):
        return questions.update_code_entry(_actor(), question_id, draft, utcnow())
    return questions.update_question(_actor(), question_id, draft, utcnow())


@bp.route("/banks/<int:bank_id>/questions/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def new_question(bank_id: int):
    """Write a new question."""
    _authors_only()
    bank = questions.get_bank(bank_id)
    form = _form_with()
    question, status = _save_question(form, lambda draft: _create(bank.id, draft))
    if question is not None:
        flash("The question is saved.", "success")
        return redirect(url_for("bank.bank_page", bank_id=bank_id))
    return render_template(
        "courses/question_form.html", form=form, bank=bank, question=None, has_attempts=False
    ), status


@bp.route("/questions/<int:question_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit_question(question_id: int):
    """Edit a question (a new version if attempts have seen it)."""
    _authors_only()
    question = questions.get_question(question_id)
    bank = questions.get_bank(question.bank_id)
    seen = questions.has_attempts(question.id)
    form = _form_with(question)
    saved, status = _save_question(form, lambda draft: _update(question_id, draft))
    if saved is not None:
        message = (
            f"Saved as version {saved.version}; attempts keep the version they saw."
            if saved.id != question_id
            else "The question is saved."
        )
        flash(message, "success")
        return redirect(url_for("bank.bank_page", bank_id=bank.id))
    return render_template(
        "courses/question_form.html", form=form, bank=bank, question=question, has_attempts=seen
    ), status


@bp.post("/questions/<int:question_id>/retire")
@roles_required(*STAFF)
def retire_question(question_id: int):
    """Retire a question."""
    _authors_only()
    if not QuizForm().validate_on_submit():
        raise InvalidInput("The form could not be checked. Reload the page and try again.")
    question = questions.retire_question(_actor(), question_id, utcnow())
    bank_id = question.bank_id
    flash("The question is retired.", "success")
    return redirect(url_for("bank.bank_page", bank_id=bank_id))


def _limits() -> interchange.Limits:
    return interchange.Limits.from_config(current_app.config)


@bp.route("/banks/import", methods=["GET", "POST"])
@roles_required(*STAFF)
@takes_uploads
def import_preview():
    """Read an uploaded file and show a summary of what would be imported (nothing is
    written): counts by kind and content area and the first problems, never every question.
    (A GET, or an upload over the size limit, shows the bank list with its import form.)"""
    form = ImportForm()
    banks = questions.list_banks
    if request.method == "POST":
        _authors_only()
    if not form.validate_on_submit():
        status = oversized_upload(form.file) or (400 if form.is_submitted() else 200)
        return render_template("courses/bank_list.html", banks=banks(), form=form), status
    limits = _limits()
    data = form.file.data.read(limits.max_bytes + 1)  # what is past the limit stays unread
    too_large = interchange.size_problem(len(data), limits)
    if too_large:
        form.file.errors = [too_large.reason[0].upper() + too_large.reason[1:] + "."]
        return render_template("courses/bank_list.html", banks=banks(), form=form), 413
    fmt = form.fmt.data or interchange.guess_format(data, form.file.data.filename or "")
    if fmt is None:
        form.fmt.errors = ["The file does not show its format: choose it."]
        return render_template("courses/bank_list.html", banks=banks(), form=form), 422
    result = transfer.preview_import(data, fmt, limits)
    confirm = ConfirmImportForm(  # formdata=None: filled from here, not from the upload
        formdata=None, content=pack(data), fmt=fmt, bank=form.bank.data
    )
    status = 200 if result.ok else 413 if result.too_large else 422
    return render_template(
        "courses/import_preview.html",
        result=result,
        summary=interchange.summarise(result),
        confirm=confirm,
        bank_name=form.bank.data,
        fmt_label=interchange.FORMAT_LABELS[fmt],
    ), status


def pack(data: bytes) -> str:
    """The previewed file as the confirm form carries it back: compressed, then base64."""
    return base64.b64encode(zlib.compress(data, 6)).decode("ascii")


def unpack(content: str, limits: interchange.Limits) -> bytes:
    """The file a confirm form carried back; at most ``limits.max_bytes`` are unpacked, so a
    forged form cannot make the server inflate a bomb."""
    try:
        inflate = zlib.decompressobj()
        data = inflate.decompress(base64.b64decode(content, validate=True), limits.max_bytes + 1)
    except (binascii.Error, ValueError, zlib.error) as error:
        raise InvalidInput("The file could not be read back. Upload it again.") from error
    if not inflate.eof:
        raise InvalidInput("The file could not be read back whole. Upload it again.")
    return data


@bp.post("/banks/import/confirm")
@roles_required(*STAFF)
def import_confirm():
    """Import the previewed file: every question, or none."""
    _authors_only()
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        raise InvalidInput("The import could not be checked. Upload the file again.")
    limits = _limits()
    data = unpack(form.content.data, limits)
    bank, result = transfer.import_questions(
        _actor(), form.bank.data, data, form.fmt.data, utcnow(), limits
    )
    bank_id, count = bank.id, len(result.items)
    flash(f"{count} questions imported.", "success")
    return redirect(url_for("bank.bank_page", bank_id=bank_id))


@bp.get("/banks/<int:bank_id>/export/<fmt>")
@roles_required(*STAFF)
@writes_on_get("an export of a question bank is audited")
def export_bank(bank_id: int, fmt: str):
    """Download a bank as Moodle XML, GIFT or Aiken."""
    body, filename = transfer.export_bank(_actor(), bank_id, fmt, utcnow())
    mimetype = "application/xml" if filename.endswith(".xml") else "text/plain"
    response = Response(body, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", **headers.download_names(filename))
    return response


@bp.route("/courses/<int:course_id>/exams/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def new_exam(course_id: int):
    """Add a practice exam to a course, then set its questions and timing."""
    _authors_only()
    course = catalogue.get_course(course_id)
    form = ExamModuleForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                quiz = quizzes.add_exam_module(
                    _actor(), course_id, form.code.data, form.title.data, utcnow()
                )
            except DomainError as error:
                status = show_problems(form, error)
            else:
                quiz_id = quiz.id
                flash("The exam is added. Now choose its bank, blueprint and time.", "success")
                return redirect(url_for("bank.quiz_settings", quiz_id=quiz_id))
    return render_template("courses/exam_form.html", form=form, course=course), status


@bp.route("/quizzes/<int:quiz_id>/settings", methods=["GET", "POST"])
@roles_required(*STAFF)
def quiz_settings(quiz_id: int):
    """Set a quiz's passing score, time, attempts, review policy, preset, blueprint and
    whether it is open book."""
    _authors_only()
    quiz = quizzes.get_quiz(quiz_id)
    form = QuizSettingsForm()
    form.preset.choices = [SelectChoice("", "None")] + [
        SelectChoice(
            p.code, f"{p.name}: {p.questions} questions, {p.minutes} min, {p.passing_score}%"
        )
        for p in PRESETS.values()
    ]
    form.bank_id.choices = [SelectChoice(b.id, b.name) for b, _ in questions.list_banks()]
    if request.method == "GET":
        form.passing_score.data = quiz.passing_score
        form.time_limit_minutes.data = quiz.time_limit_minutes
        form.max_attempts.data = quiz.max_attempts
        form.review_policy.data = quiz.review_policy.value
        form.preset.data = quiz.preset or ""
        form.bank_id.data = quiz.bank_id
        form.blueprint.data = drawing.blueprint_text(blueprints.blueprint_rows(quiz))
        form.open_book.data = quiz.open_book
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            settings = QuizSettings(
                passing_score=form.passing_score.data,
                time_limit_minutes=form.time_limit_minutes.data,
                max_attempts=form.max_attempts.data,
                review_policy=form.review_policy.data,
                preset=form.preset.data or None,
                bank_id=form.bank_id.data,
                blueprint=form.blueprint.data or "",
                open_book=bool(form.open_book.data),
            )
            try:
                quizzes.update_quiz(_actor(), quiz_id, settings, utcnow())
            except DomainError as error:
                status = show_problems(form, error)
            else:
                module_id = quiz.module_id
                flash("The quiz settings are saved.", "success")
                saved = quizzes.get_quiz(quiz_id)
                for sentence in _departures(saved):
                    flash(f"Not the exam's weights: {sentence}", "info")
                return redirect(url_for("courses.module_page", module_id=module_id))
    return render_template(
        "courses/quiz_settings.html",
        form=form,
        quiz=quiz,
        presets=PRESETS.values(),
        departures=_departures(quiz),
    ), status


def _departures(quiz) -> list[str]:
    """How the quiz's stored blueprint departs from its preset's content-area weights."""
    preset = PRESETS.get(quiz.preset or "")
    if preset is None or not preset.weights:
        return []
    return blueprint_departures(preset, blueprints.blueprint_rows(quiz))


@bp.get("/quizzes/<int:quiz_id>/analysis")
@roles_required(*STAFF)
def item_analysis(quiz_id: int):
    """Item analysis of a quiz's graded attempts."""
    quiz, reports, attempts = analysis.item_analysis(_actor(), quiz_id)
    return render_template(
        "courses/item_analysis.html", quiz=quiz, reports=reports, attempts=attempts
    )
