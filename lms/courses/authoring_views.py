"""The editor: courses, modules and their lessons written in the browser as drafts, published
as versions that are kept, compared and restored. Authors write; other instructors and
admins read the same pages without the forms."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from lms.auth.access import roles_required
from lms.auth.models import Role
from lms.courses import blueprints, catalogue, player
from lms.courses.authoring import service as authoring
from lms.courses.bank import quizzes as quiz_builder
from lms.courses.bank.questions import list_banks
from lms.courses.forms import (
    ConfirmForm,
    CourseForm,
    ModuleForm,
    NewQuizForm,
    PublishForm,
    RestoreForm,
)
from lms.courses.markdown import render_markdown
from lms.courses.models import Course, Quiz
from lms.courses.rules import authoring as rules
from lms.db import utcnow
from lms.errors import DomainError, InvalidInput
from lms.extensions import db
from lms.forms import show_problems, whole_number

bp = Blueprint("authoring", __name__)
STAFF = (Role.INSTRUCTOR, Role.ADMIN)


def _actor():
    return current_user._get_current_object()  # noqa: SLF001 - the logged-in user


def _course_fields(form: CourseForm) -> rules.CourseFields:
    return rules.CourseFields(
        code=form.code.data or "",
        title=form.title.data or "",
        topic_area=form.topic_area.data or "",
        description=form.description.data or "",
    )


def _preview(module_course_id: int, markdown: str):
    return render_markdown(
        markdown, media_base=url_for("media.course_media_list", course_id=module_course_id) + "/"
    )


@bp.route("/courses/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def new_course():
    """Start a course: its code, title, topic area and description."""
    form = CourseForm()
    status = 200
    if form.is_submitted():
        if not form.validate():
            status = 400
        else:
            try:
                course = authoring.create_course(
                    _actor(), _course_fields(form), utcnow(), sequential=form.sequential.data
                )
            except DomainError as error:
                status = show_problems(form, error)
            else:
                flash(f"{course.title} is created. Add its first module.", "success")
                return redirect(url_for("authoring.edit_course", course_id=course.id))
    return render_template(
        "courses/authoring/course_form.html", form=form, course=None, may_edit=_actor().is_author
    ), status


@bp.route("/courses/<int:course_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit_course(course_id: int):
    """A course's fields and its modules in order, with their state, to move and open."""
    actor = _actor()
    course, modules = authoring.course_with_all_modules(course_id)
    form = CourseForm(obj=course) if request.method == "GET" else CourseForm()
    status = 200
    if form.is_submitted():
        if not form.validate():
            status = 400
        else:
            try:
                authoring.update_course(actor, course.id, _course_fields(form), utcnow())
                if form.sequential.data != course.sequential:
                    catalogue.set_sequential(actor, course.id, form.sequential.data, utcnow())
            except DomainError as error:
                status = show_problems(form, error)
            else:
                flash(f"{course.title} is saved.", "success")
                return redirect(url_for("authoring.edit_course", course_id=course.id))
    return render_template(
        "courses/authoring/course_form.html",
        form=form,
        course=course,
        modules=modules,
        action=ConfirmForm(),
        may_edit=actor.is_author,
    ), status


@bp.post("/courses/<int:course_id>/archive")
@roles_required(*STAFF)
def archive_course(course_id: int):
    """Archive a course, or bring it back (``archived`` = 1 or 0)."""
    _checked(ConfirmForm())
    archived = request.form.get("archived") == "1"
    course = authoring.archive_course(_actor(), course_id, archived, utcnow())
    flash(
        f"{course.title} is archived: students no longer see it; completions stay."
        if archived
        else f"{course.title} is back in the catalogue.",
        "success",
    )
    return redirect(url_for("authoring.edit_course", course_id=course_id))


def _checked(form) -> None:
    if not form.validate_on_submit():
        raise InvalidInput("The form expired: reload the page and try again.")


@bp.route("/courses/<int:course_id>/modules/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def new_module(course_id: int):
    """Add a module at the end of a course: code, title, time and the lesson's first draft."""
    actor = _actor()
    course, _ = authoring.course_with_all_modules(course_id)
    form = ModuleForm()
    status = 200
    if form.is_submitted():
        if not form.validate():
            status = 400
        else:
            try:
                module = authoring.add_module(
                    actor,
                    course.id,
                    rules.ModuleFields(
                        form.code.data or "", form.title.data or "", form.estimated_minutes.data
                    ),
                    utcnow(),
                    lesson_markdown=form.lesson_markdown.data or "",
                )
            except DomainError as error:
                status = show_problems(form, error)
            else:
                flash(
                    f"{module.title} is saved as a draft: students see it once you publish it.",
                    "success",
                )
                return redirect(url_for("authoring.edit_module", module_id=module.id))
    return render_template(
        "courses/authoring/module_new.html", form=form, course=course, may_edit=actor.is_author
    ), status


@bp.route("/modules/<int:module_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit_module(module_id: int):
    """A module's draft beside its preview; saving keeps it a draft, publishing (below the
    editor) makes it the version students see."""
    actor = _actor()
    module = authoring.get_module(module_id)
    draft = authoring.draft_of(module)
    quiz = db.session.scalar(db.select(Quiz).where(Quiz.module_id == module.id))
    form = ModuleForm()
    status = 200
    if request.method == "GET":
        form.code.data = module.code
        form.title.data = draft.title
        form.estimated_minutes.data = draft.estimated_minutes
        form.lesson_markdown.data = draft.lesson_markdown
        form.revision.data = str(draft.revision)
        form.passing_score.data = quiz.passing_score if quiz else None
    elif request.form.get("action") == "preview":
        form.validate()  # the CSRF token; nothing is written
    elif not form.validate():
        status = 400
    else:
        status = _save(actor, module, quiz, form)
        if status == 200:
            flash("The draft is saved. Students still see the published version.", "success")
            return redirect(url_for("authoring.edit_module", module_id=module.id))
    publish_form = PublishForm(formdata=None)
    return _module_page(actor, module, quiz, form, publish_form, status)


def _module_page(actor, module, quiz, form: ModuleForm, publish_form: PublishForm, status: int):
    """The editor page: the draft's form and preview, what keeps it from being published,
    what depends on the module, and the publish, archive and delete forms."""
    current = (
        authoring.version_of(module, module.published_version) if module.published_version else None
    )
    draft = authoring.draft_of(module)
    if form.revision.data is None or request.method == "GET":
        form.revision.data = str(draft.revision)
    publish_form.revision.data = str(draft.revision)
    return render_template(
        "courses/authoring/module_form.html",
        module=module,
        course=db.session.get(Course, module.course_id),
        form=form,
        quiz=quiz,
        draft=draft,
        current=current,
        unpublished=draft.differs_from(current),
        preview=_preview(module.course_id, form.lesson_markdown.data or ""),
        problems=authoring.publication_problems(module, draft),
        dependents=authoring.dependents(module),
        completions=authoring.completions_of(module),
        publish_form=publish_form,
        action=ConfirmForm(),
        may_edit=actor.is_author,
    ), status


def _save(actor, module, quiz, form: ModuleForm) -> int:
    revision = whole_number(form.revision.data or "0")
    if revision is None:
        form.form_errors.append("The form is out of date: reload the page.")
        return 400
    try:
        authoring.save_draft(
            actor,
            module.id,
            code=form.code.data if module.published_version is None else None,
            title=form.title.data or "",
            estimated_minutes=form.estimated_minutes.data,
            lesson_markdown=form.lesson_markdown.data or "",
            revision=revision,
            now=utcnow(),
        )
        if quiz is not None and form.passing_score.data is not None:
            authoring.set_passing_score(actor, module.id, form.passing_score.data, utcnow())
    except DomainError as error:
        return show_problems(form, error)
    return 200


@bp.post("/modules/<int:module_id>/publish")
@roles_required(*STAFF)
def publish_module(module_id: int):
    """Publish the draft the author read (its revision) with a note on what changed."""
    actor = _actor()
    module = authoring.get_module(module_id)
    publish_form = PublishForm()
    _checked(publish_form)
    revision = whole_number(publish_form.revision.data or "")
    try:
        version = authoring.publish(
            actor, module_id, publish_form.note.data or "", utcnow(), revision=revision
        )
    except DomainError as error:
        status = show_problems(publish_form, error, default_field="note")
        quiz = db.session.scalar(db.select(Quiz).where(Quiz.module_id == module.id))
        draft = authoring.draft_of(module)
        form = ModuleForm(formdata=None)
        form.code.data, form.title.data = module.code, draft.title
        form.estimated_minutes.data = draft.estimated_minutes
        form.lesson_markdown.data = draft.lesson_markdown
        form.passing_score.data = quiz.passing_score if quiz else None
        form.revision.data = str(draft.revision)
        return _module_page(actor, module, quiz, form, publish_form, status)
    flash(f"Version {version.number} is published: students see it now.", "success")
    return redirect(url_for("authoring.edit_module", module_id=module_id))


@bp.post("/modules/<int:module_id>/move")
@roles_required(*STAFF)
def move_module(module_id: int):
    """Move a module one place up or down (``step`` = up or down)."""
    _checked(ConfirmForm())
    step = {"up": -1, "down": 1}.get(request.form.get("step", ""))
    if step is None:
        raise InvalidInput("Move a module up or down.")
    module = authoring.move_module(_actor(), module_id, step, utcnow())
    flash(f"{module.title} moved {request.form['step']}.", "success")
    return redirect(url_for("authoring.edit_course", course_id=module.course_id) + "#modules")


@bp.post("/modules/<int:module_id>/archive")
@roles_required(*STAFF)
def archive_module(module_id: int):
    """Archive a module, or bring it back (``archived`` = 1 or 0)."""
    _checked(ConfirmForm())
    archived = request.form.get("archived") == "1"
    module = authoring.archive_module(_actor(), module_id, archived, utcnow())
    flash(
        f"{module.title} is archived: students no longer see it; its completions stay."
        if archived
        else f"{module.title} is back in its course.",
        "success",
    )
    return redirect(url_for("authoring.edit_module", module_id=module_id))


@bp.post("/modules/<int:module_id>/delete")
@roles_required(*STAFF)
def delete_module(module_id: int):
    """Delete a module that has no history (409 otherwise: archive it)."""
    _checked(ConfirmForm())
    module = authoring.get_module(module_id)
    course_id = module.course_id
    code = authoring.delete_module(_actor(), module_id, utcnow())
    flash(f"Module {code} is deleted.", "success")
    return redirect(url_for("authoring.edit_course", course_id=course_id))


@bp.get("/modules/<int:module_id>/versions")
@roles_required(*STAFF)
def module_versions(module_id: int):
    """Every published version (who, when, why), one compared with the one before it."""
    module = authoring.get_module(module_id)
    return _versions_page(module, RestoreForm(formdata=None), 200)


def _versions_page(module, restore_form: RestoreForm, status: int):
    versions = authoring.versions_of(module)
    by_number = {version.number: version for version in versions}
    shown = whole_number(request.args.get("compare", "")) or (
        versions[0].number if versions else None
    )
    if shown is not None and shown not in by_number:
        abort(404)
    compared = by_number.get(shown) if shown else None
    before = by_number.get(shown - 1) if shown else None
    diff = (
        rules.lesson_diff(before.lesson_markdown if before else "", compared.lesson_markdown)
        if compared
        else []
    )
    return render_template(
        "courses/authoring/versions.html",
        module=module,
        course=db.session.get(Course, module.course_id),
        versions=versions,
        compared=compared,
        before=before,
        diff=diff,
        authors=authoring.names_of(v.published_by_id for v in versions),
        restore_form=restore_form,
        may_edit=_actor().is_author,
    ), status


@bp.post("/modules/<int:module_id>/versions/<int:number>/restore")
@roles_required(*STAFF)
def restore_version(module_id: int, number: int):
    """Publish an earlier version again as the next version."""
    module = authoring.get_module(module_id)
    form = RestoreForm()
    _checked(form)
    try:
        version = authoring.restore(
            _actor(), module_id, number, utcnow(), discard_draft=form.discard_draft.data
        )
    except DomainError as error:
        return _versions_page(module, form, show_problems(form, error))
    flash(f"Version {number} is published again as version {version.number}.", "success")
    return redirect(url_for("authoring.module_versions", module_id=module_id))


# --- the quiz builder -----------------------------------------------------------------------


@bp.route("/modules/<int:module_id>/quiz/build", methods=["GET", "POST"])
@roles_required(*STAFF)
def build_quiz(module_id: int):
    """A module's quiz: create it, then pick its questions from a bank by hand (or draw them
    by a blueprint in the quiz settings), and preview it as a student sees it."""
    actor = _actor()
    module = authoring.get_module(module_id)
    quiz = quiz_builder.quiz_of_module(module.id)
    new_form = NewQuizForm()
    new_form.bank_id.choices = [SelectChoice(b.id, f"{b.name} ({n})") for b, n in list_banks()]
    action = ConfirmForm()
    status = 200
    if request.method == "POST":
        _checked(action)
        try:
            status = _builder_action(actor, module, quiz, new_form)
        except DomainError as error:
            status = error.status_code
            for problem in error.problems:
                action.form_errors.append(problem.message)
        if status < 400:
            return redirect(url_for("authoring.build_quiz", module_id=module.id, **request.args))
    if quiz is None and request.method == "GET":
        new_form.title.data = f"Quiz: {module.title}"
        course_bank = next(
            (b.id for b, _ in list_banks() if b.name.startswith(f"{_course_code(module)}:")),
            None,
        )
        new_form.bank_id.data = course_bank
    quiz = quiz_builder.quiz_of_module(module.id)
    bank_id = whole_number(request.args.get("bank", "")) or (quiz.bank_id if quiz else None)
    text, label = request.args.get("q", "")[:200], request.args.get("tag", "")[:80]
    candidates, more = (
        quiz_builder.candidate_questions(bank_id, text, label) if quiz and bank_id else ([], False)
    )
    in_quiz = {item.question_id for item in quiz.items} if quiz else set()
    return render_template(
        "courses/authoring/quiz_builder.html",
        module=module,
        course=db.session.get(Course, module.course_id),
        quiz=quiz,
        items=sorted(quiz.items, key=lambda i: i.position) if quiz else [],
        has_blueprint=bool(quiz and blueprints.blueprint_rows(quiz)),
        new_form=new_form,
        action=action,
        banks=list_banks(),
        bank_id=bank_id,
        text=text,
        label=label,
        candidates=[q for q in candidates if q.id not in in_quiz],
        more=more,
        may_edit=actor.is_author,
    ), status


def _course_code(module) -> str:
    return db.session.get(Course, module.course_id).code


def _builder_action(actor, module, quiz, new_form: NewQuizForm) -> int:
    """Create the quiz, add the ticked questions, or remove one; the status to answer."""
    now = utcnow()
    what = request.form.get("action", "")
    if what == "create":
        if not new_form.validate():
            raise InvalidInput("Check the quiz's title, bank and passing score.")
        quiz_builder.create_quiz(
            actor,
            module.id,
            new_form.title.data or "",
            new_form.bank_id.data,
            new_form.passing_score.data if new_form.passing_score.data is not None else 80,
            now,
        )
        flash("The quiz is created: now pick its questions.", "success")
        return 200
    if quiz is None:
        raise InvalidInput("The module has no quiz yet: create it first.")
    if what == "add":
        ids = [whole_number(v) for v in request.form.getlist("question")]
        if None in ids:
            raise InvalidInput("Tick questions from the list.")
        added = quiz_builder.add_questions(actor, quiz.id, ids, now)
        flash(f"{added} question{'s' if added != 1 else ''} added to the quiz.", "success")
        return 200
    if what == "remove":
        question_id = whole_number(request.form.get("question", ""))
        if question_id is None:
            raise InvalidInput("Choose the question to remove.")
        quiz_builder.remove_question(actor, quiz.id, question_id, now)
        flash(f"Question {question_id} is out of the quiz (it stays in its bank).", "success")
        return 200
    raise InvalidInput("Create the quiz, add questions or remove one.")


@bp.get("/modules/<int:module_id>/quiz/preview")
@roles_required(*STAFF)
def preview_quiz(module_id: int):
    """The quiz as a student sees it (a blueprint quiz: one draw; ``seed`` for another),
    with its settings; nothing can be submitted and nothing is written."""
    module = authoring.get_module(module_id)
    quiz = quiz_builder.quiz_of_module(module.id)
    if quiz is None:
        abort(404)
    seed = whole_number(request.args.get("seed", "")) or 1
    ids = quiz_builder.preview_question_ids(quiz, seed)
    by_id = {q.id: q for q in quiz_builder.load_questions(ids)}
    return render_template(
        "courses/authoring/quiz_preview.html",
        module=module,
        quiz=quiz,
        questions=player.preview_questions([by_id[i] for i in ids if i in by_id]),
        seed=seed,
        drawn=bool(blueprints.blueprint_rows(quiz)),
    )
