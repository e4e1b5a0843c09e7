"""The gradebook of a cohort: students x quizzes (best score and attempts), a student's
attempts at one quiz, and an attempt question by question, for the cohort's instructors.
(The CSV download is an export, in ``lms.reports.gradebook_views``.)"""

from __future__ import annotations

from flask import current_app, render_template, request

from lms.auth.access import roles_required
from lms.courses import reads as courses
from lms.db import utcnow
from lms.enrollment import access, paging
from lms.enrollment.progress import gradebook
from lms.enrollment.views import STAFF, actor, bp
from lms.errors import NotFound

DEFAULT_GRADEBOOK_PAGE_SIZE = 50  # students a page of the gradebook


@bp.get("/cohorts/<int:cohort_id>/gradebook")
@roles_required(*STAFF)
def gradebook_page(cohort_id: int):
    """Every active student's best score and attempts on each quiz, a page at a time."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    asked = request.args.get("page")
    page = paging.parse_page(asked)
    per_page = int(current_app.config.get("GRADEBOOK_PAGE_SIZE", DEFAULT_GRADEBOOK_PAGE_SIZE))
    book = gradebook.cohort_gradebook(cohort, page or 0, per_page)
    status, notice = 200, None
    if page is None:
        status = 400
        notice = f"“{asked[:20]}” is not a page number: pages are numbered 1, 2, 3 …"
    elif not book.window.exists:
        status = 404
        pages = book.window.pages
        notice = (
            f"There is no page {page}: the students of this cohort fill "
            f"{pages} page{'s' if pages != 1 else ''}."
        )
    return render_template("enrollment/gradebook.html", book=book, notice=notice), status


@bp.get("/cohorts/<int:cohort_id>/gradebook/students/<int:student_id>/quizzes/<int:quiz_id>")
@roles_required(*STAFF)
def gradebook_attempts(cohort_id: int, student_id: int, quiz_id: int):
    """A student's attempts at one quiz of the cohort's courses, each linking to its review."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    enrollment = access.get_enrollment_for(actor(), cohort, student_id)
    quiz = gradebook.gradebook_quiz(cohort, quiz_id)
    return render_template(
        "enrollment/gradebook_attempts.html",
        cohort=cohort,
        student=enrollment.student,
        quiz=quiz,
        attempts=courses.attempt_rows(student_id, [quiz_id]),
    )


@bp.get("/cohorts/<int:cohort_id>/gradebook/attempts/<int:attempt_id>")
@roles_required(*STAFF)
def gradebook_attempt(cohort_id: int, attempt_id: int):
    """One attempt of a student of the cohort, question by question: the stem, the choices,
    the student's picks, the key and whether each answer is right (whatever the quiz's review
    policy, which governs only what the student sees)."""
    cohort = access.get_cohort_for(actor(), cohort_id)
    attempt = courses.load_attempt(attempt_id)
    if attempt is None:
        raise NotFound("There is no such attempt.")
    enrollment = access.get_enrollment_for(actor(), cohort, attempt.student_id)
    quiz = gradebook.gradebook_quiz(cohort, attempt.quiz_id)
    return render_template(
        "enrollment/gradebook_attempt.html",
        cohort=cohort,
        student=enrollment.student,
        quiz=quiz,
        attempt=attempt,
        review=courses.staff_review(attempt, utcnow()),
    )
