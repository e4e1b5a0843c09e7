"""Course catalogue, module pages (lesson and quiz) and quiz results."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms.auth.access import login_required, roles_required
from lms.auth.models import Role
from lms.courses import service
from lms.courses.forms import QuizForm, parse_answers
from lms.courses.markdown import render_markdown
from lms.db import utcnow
from lms.errors import InvalidInput
from lms.extensions import db
from lms.templating import format_percent

bp = Blueprint("courses", __name__)


@bp.get("/courses")
@login_required
def course_list():
    """Every course and its modules."""
    return render_template("courses/course_list.html", courses=service.list_courses())


@bp.get("/modules/<int:module_id>")
@login_required
def module_page(module_id: int):
    """A module's lesson and its quiz."""
    module = service.get_module(module_id)
    siblings = module.course.modules
    index = siblings.index(module)
    return render_template(
        "courses/module.html",
        module=module,
        lesson_html=render_markdown(module.lesson.body_markdown) if module.lesson else None,
        previous=siblings[index - 1] if index > 0 else None,
        next=siblings[index + 1] if index + 1 < len(siblings) else None,
        form=QuizForm(),
        can_take_quiz=current_user.is_student,
    )


@bp.post("/modules/<int:module_id>/quiz")
@roles_required(Role.STUDENT)
def submit_quiz(module_id: int):
    """Grade the quiz and show the result."""
    form = QuizForm()
    if not form.validate_on_submit():
        raise InvalidInput("The form could not be checked. Reload the page and try again.")
    attempt = service.submit_quiz(
        current_user._get_current_object(), module_id, parse_answers(request.form), utcnow()
    )
    db.session.commit()
    if attempt.passed:
        flash(f"You passed with {format_percent(attempt.score)}.", "success")
    else:
        flash(
            f"You scored {format_percent(attempt.score)}. "
            "Review the rationales below and try again.",
            "warning",
        )
    return redirect(url_for("courses.attempt_result", attempt_id=attempt.id))


@bp.get("/attempts/<int:attempt_id>")
@roles_required(Role.STUDENT, Role.ADMIN)
def attempt_result(attempt_id: int):
    """An attempt's score, with each question's correct answer and rationale."""
    attempt = service.get_attempt_for(current_user._get_current_object(), attempt_id)
    chosen = {answer.question_id: answer.choice_id for answer in attempt.answers}
    return render_template("courses/attempt.html", attempt=attempt, chosen=chosen)
