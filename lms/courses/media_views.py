"""A course's lesson media: the list and upload page for authors, and the files themselves,
served to whoever may read the course's lessons."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_login import current_user

from lms.auth.access import login_required, roles_required
from lms.auth.models import Role
from lms.courses import catalogue
from lms.courses.forms import MediaUploadForm
from lms.courses.media import service as media
from lms.db import utcnow
from lms.errors import DomainError, NotFound
from lms.forms import oversized_upload, show_problems, takes_uploads

bp = Blueprint("media", __name__)
STAFF = (Role.INSTRUCTOR, Role.ADMIN)


def _actor():
    return current_user._get_current_object()  # noqa: SLF001 - the logged-in user


@bp.route("/courses/<int:course_id>/media", methods=["GET", "POST"])
@roles_required(*STAFF)
@takes_uploads
def course_media_list(course_id: int):
    """The course's files with the Markdown that shows each; authors upload more."""
    actor = _actor()
    course = catalogue.get_course(course_id)
    form = MediaUploadForm()
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        name = (upload.filename or "").rsplit("/", 1)[-1]
        try:
            media.store_media(course, name, upload.read(), actor, utcnow())
        except DomainError as error:
            status = show_problems(form, error)
        else:
            flash(f"{name} is uploaded.", "success")
            return redirect(url_for("media.course_media_list", course_id=course_id))
    else:
        status = oversized_upload(form.file) or (400 if form.is_submitted() else 200)
    return render_template(
        "courses/media.html",
        course=course,
        files=media.list_media(course),
        form=form,
        may_upload=actor.is_author,
    ), status


@bp.get("/courses/<int:course_id>/media/<filename>")
@login_required
def course_media_file(course_id: int, filename: str):
    """A lesson's file, to anyone who may read the course's lessons (every signed-in user, as
    the module pages; students not once the course is archived), with its sniffed type and
    ``nosniff``."""
    if current_user.is_student and catalogue.get_course(course_id).archived_at is not None:
        raise NotFound("There is no such file.")  # students no longer see the course
    found = media.get_media(course_id, filename)
    body = media.read_media(found)
    response = Response(body, mimetype=found.content_type)
    disposition = (
        "inline" if found.kind in ("image", "audio", "video", "captions") else "attachment"
    )
    response.headers["Content-Disposition"] = f'{disposition}; filename="{found.filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.set_etag(found.sha256)
    return response
