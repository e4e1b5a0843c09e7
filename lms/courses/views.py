"""Course catalogue, module pages (lesson and quiz), the quiz player and quiz results."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import OperationalError

from lms.auth.access import login_required, roles_required
from lms.auth.models import Role
from lms.courses import accommodations, blueprints, catalogue, gating, player, reads, time_on_task
from lms.courses.attempts import grading, loading, sitting
from lms.courses.forms import QuizForm, parse_answers, parse_flags
from lms.courses.markdown import render_markdown
from lms.courses.models import AttemptStatus
from lms.db import utcnow
from lms.errors import Conflict, InvalidInput, NotFound
from lms.extensions import db
from lms.templating import format_percent
from lms.transactions import keep_when_refused

bp = Blueprint("courses", __name__)


def _actor():
    return current_user._get_current_object()


def _check_form() -> None:
    if not QuizForm().validate_on_submit():
        raise InvalidInput("The form could not be checked. Reload the page and try again.")


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@contextmanager
def _keeping_deadline_grades() -> Iterator[None]:
    """Starting refused (409: no attempt left, a quiz that cannot be drawn) still keeps the
    grading it did first: the student's attempt whose time was up, graded at its deadline."""
    try:
        yield
    except Conflict:
        keep_when_refused()
        raise


@bp.get("/courses")
@login_required
def course_list():
    """Every course and its modules, with the student's contact hours per course."""
    hours = time_on_task.contact_hours_by_course(current_user.id) if current_user.is_student else {}
    return render_template(
        "courses/course_list.html",
        courses=catalogue.list_courses(include_archived=not current_user.is_student),
        hours=hours,
        total_hours=round(sum(hours.values()), 2),
        can_edit=current_user.is_author,
        form=QuizForm(),
    )


@bp.post("/courses/<int:course_id>/sequential")
@roles_required(Role.INSTRUCTOR, Role.ADMIN)
def set_sequential(course_id: int):
    """Turn sequential gating of a course on or off."""
    _check_form()
    on = request.form.get("sequential") == "on"
    course = catalogue.set_sequential(_actor(), course_id, on, utcnow())
    message = (
        f"{course.title}: each module now opens when the previous one is complete."
        if on
        else f"{course.title}: every module is open."
    )
    flash(message, "success")
    return redirect(url_for("courses.course_list"))


@bp.get("/modules/<int:module_id>")
@login_required
def module_page(module_id: int):
    """A module's lesson and its quiz, with the student's attempts (one whose time is up shows
    the grade it will get; the student's next start, save or submission writes it)."""
    actor = _actor()
    module = catalogue.get_module(module_id, questions=False)
    siblings = module.course.modules
    if module not in siblings or module.course.archived_at is not None:
        # never published, or archived: the authors' alone (staff see it, marked as such)
        if not (actor.is_instructor or actor.is_admin):
            raise NotFound("There is no such module.")
        siblings = [module]
    index = siblings.index(module)
    locked_by = gating.locked_by(actor, module)
    standing = grading.standing(actor, module, utcnow()) if locked_by is None else None
    quiz = module.quiz
    timed = quiz is not None and bool(quiz.time_limit_minutes)
    extra_time = (
        accommodations.extra_time_multiplier(actor.id) if timed and actor.is_student else None
    )
    return render_template(
        "courses/module.html",
        module=module,
        quiz=quiz,
        lesson_html=render_markdown(
            module.lesson.body_markdown,
            media_base=url_for("media.course_media_list", course_id=module.course_id) + "/",
        )
        if module.lesson
        else None,
        previous=siblings[index - 1] if index > 0 else None,
        next=siblings[index + 1] if index + 1 < len(siblings) else None,
        form=QuizForm(),
        can_take_quiz=actor.is_student and locked_by is None,
        locked_by=locked_by,
        results=standing.results if standing else [],
        open_attempt=standing.open_attempt if standing else None,
        used_up=standing.used_up if standing else False,
        question_count=blueprints.question_count(quiz) if quiz else 0,
        is_staff=actor.is_instructor or actor.is_admin,
        extended=player.TimeLimit(quiz.time_limit_minutes, extra_time) if extra_time else None,
    )


@bp.post("/modules/<int:module_id>/attempts")
@roles_required(Role.STUDENT)
def start_attempt(module_id: int):
    """Start the quiz (or resume the attempt in progress)."""
    _check_form()
    with _keeping_deadline_grades():
        attempt = sitting.start_attempt(_actor(), module_id, utcnow())
    attempt_id = attempt.id
    return redirect(url_for("courses.attempt_page", attempt_id=attempt_id))


@bp.post("/modules/<int:module_id>/quiz")
@roles_required(Role.STUDENT)
def submit_quiz(module_id: int):
    """Answer and grade a quiz in one request (its fixed list of questions)."""
    _check_form()
    with _keeping_deadline_grades():
        attempt = sitting.submit_quiz(_actor(), module_id, parse_answers(request.form), utcnow())
    _flash_result(attempt)
    attempt_id = attempt.id
    return redirect(url_for("courses.attempt_page", attempt_id=attempt_id))


def _flash_result(attempt) -> None:
    if attempt.closed_by_deadline:
        flash(
            "Time was up: the attempt was graded at its deadline with the answers saved "
            f"before it. You scored {format_percent(attempt.score)}.",
            "warning",
        )
    elif attempt.passed:
        flash(f"You passed with {format_percent(attempt.score)}.", "success")
    else:
        flash(
            f"You scored {format_percent(attempt.score)}. "
            "Review the rationales below and try again.",
            "warning",
        )


@bp.get("/attempts/<int:attempt_id>")
@roles_required(Role.STUDENT, Role.ADMIN)
def attempt_page(attempt_id: int):
    """The player for an attempt in progress, else the result: as graded, or, once its time
    is up, the grade it will get at its deadline (written by the student's next save or
    submission)."""
    now = utcnow()
    attempt = loading.get_attempt_for(_actor(), attempt_id)
    outcome = grading.result_of(attempt, now)
    if outcome is None:
        return _render_player(attempt, now, is_owner=attempt.student_id == current_user.id)
    return render_template(
        "courses/attempt.html",
        attempt=attempt,
        result=player.result_view(attempt, outcome),
        duration=player.format_duration,
        form=QuizForm(),
        is_owner=attempt.student_id == current_user.id,
    )


@bp.get("/grades")
@roles_required(Role.STUDENT)
def my_grades():
    """The student's own attempts at each quiz: score, date, passed or not, and a link to
    each attempt's result (which shows what the quiz's review policy allows)."""
    return render_template("courses/grades.html", quizzes=reads.attempts_by_quiz(current_user.id))


@bp.post("/attempts/<int:attempt_id>/answers")
@roles_required(Role.STUDENT)
def save_answers(attempt_id: int):
    """Autosave answers (JSON for the script; a redirect for a browser without it)."""
    _check_form()
    now = utcnow()
    try:
        attempt = sitting.save_answers(
            _actor(), attempt_id, parse_answers(request.form), now, parse_flags(request.form)
        )
    except OperationalError as error:
        raise _concurrent_change() from error
    closed = attempt.status is not AttemptStatus.IN_PROGRESS
    left = player.seconds_left(attempt, now)
    if closed:
        keep_when_refused()  # an attempt whose time ran out was graded: keep that
        raise Conflict(
            "This attempt is closed (submitted, or its time is up); the answer was not saved."
        )
    if _wants_json():
        return jsonify(saved=True, seconds_left=left)
    flash("Your answers are saved. You can come back to this attempt later.", "success")
    return redirect(url_for("courses.attempt_page", attempt_id=attempt_id))


@bp.post("/attempts/<int:attempt_id>/submit")
@roles_required(Role.STUDENT)
def submit_attempt(attempt_id: int):
    """Grade the attempt; a second submission shows the same result. After the deadline the
    attempt is graded at it: answers sent late are refused (409); sent without answers (the
    result page's button) this records the grade."""
    _check_form()
    now = utcnow()
    actor = _actor()
    answers, flags = parse_answers(request.form), parse_flags(request.form)
    before = loading.get_attempt_for(actor, attempt_id)
    was_open = before.status is AttemptStatus.IN_PROGRESS
    confirmed = request.form.get("unanswered") == "confirmed"
    if was_open and not confirmed and player.seconds_left(before, now) != 0:
        blank = player.unanswered_numbers(before, answers)
        flagged = player.flagged_numbers(before, flags)
        if blank or flagged:
            return _ask_before_grading(actor, attempt_id, answers, flags, now)
    try:
        attempt = sitting.submit_attempt(actor, attempt_id, answers, now, flags)
    except OperationalError:
        # SQLite: a concurrent submission (a double click) has just graded this attempt;
        # nothing was written here, so show the result like any repeated submission.
        db.session.rollback()
        return redirect(url_for("courses.attempt_page", attempt_id=attempt_id))
    late = was_open and attempt.closed_by_deadline
    if was_open:
        _flash_result(attempt)
    if late and answers:
        keep_when_refused()  # graded at its deadline: keep the grade
        raise Conflict(
            "Time was up before you submitted: the attempt was graded at its deadline with "
            "the answers saved before it. Your late answers were not taken."
        )
    return redirect(url_for("courses.attempt_page", attempt_id=attempt_id))


def _ask_before_grading(actor, attempt_id: int, answers, flags, now):
    """Before grading an attempt with blank questions or questions flagged for review: save
    what was sent and show the player again, those questions named, with a button to submit
    as it is."""
    try:
        attempt = sitting.save_answers(actor, attempt_id, answers, now, flags)
    except OperationalError as error:
        raise _concurrent_change() from error
    if attempt.status is not AttemptStatus.IN_PROGRESS:  # time ran out meanwhile: graded
        return redirect(url_for("courses.attempt_page", attempt_id=attempt_id))
    return _render_player(
        attempt,
        now,
        is_owner=True,
        unanswered=player.unanswered_numbers(attempt, {}),
        flagged=player.flagged_numbers(attempt, None),
    )


def _render_player(
    attempt, now, *, is_owner: bool, unanswered: list[int] = (), flagged: list[int] = ()
):
    """The player: the questions with the saved picks and flags, the navigator, the clock
    and the time limit (extended by an accommodation); before grading, the questions left
    blank and those flagged for review named."""
    return render_template(
        "courses/player.html",
        attempt=attempt,
        questions=player.player_questions(attempt),
        seconds_left=player.seconds_left(attempt, now),
        time_limit=player.time_limit(attempt),
        form=QuizForm(),
        is_owner=is_owner,
        unanswered=list(unanswered),
        flagged=list(flagged),
    )


def _concurrent_change() -> Conflict:
    # SQLite refuses a write from a transaction whose snapshot another request has just
    # changed (a double click): nothing was written; the attempt page shows its state.
    db.session.rollback()
    return Conflict(
        "This attempt was changed by another request at the same time (a double click?). "
        "Open the attempt again to see where it stands."
    )


@bp.post("/modules/<int:module_id>/heartbeat")
@roles_required(Role.STUDENT)
def heartbeat(module_id: int):
    """Count time on task while a student has the module open and is active."""
    _check_form()
    seconds = time_on_task.record_heartbeat(_actor(), module_id, utcnow())
    return jsonify(seconds=seconds)
