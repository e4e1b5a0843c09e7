"""Whole courses in and out for authors: upload a course package or a Common Cartridge, see
what would be created and what is not imported, then confirm; download a course as either."""

from __future__ import annotations

import base64
import binascii
import zlib

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms import headers
from lms.auth.access import roles_required
from lms.auth.models import Role
from lms.courses import catalogue
from lms.courses.forms import ConfirmCourseImportForm, CourseImportForm
from lms.courses.packages import PackageError, cartridge_out, importer, load, native
from lms.db import utcnow
from lms.errors import DomainError, InvalidInput
from lms.forms import oversized_upload, takes_uploads

bp = Blueprint("course_packages", __name__)
STAFF = (Role.INSTRUCTOR, Role.ADMIN)
WHAT = "import or export whole courses"
MAX_FILE = 12 * 1024 * 1024  # under the request limit, for the preview to carry it back


def _actor():
    actor = current_user._get_current_object()
    catalogue.require_author(actor, WHAT)
    return actor


def _pack(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data, 6)).decode("ascii")


def _unpack(content: str) -> bytes:
    """The file the confirm form carried back; never more than ``MAX_FILE`` is inflated."""
    try:
        inflate = zlib.decompressobj()
        data = inflate.decompress(base64.b64decode(content, validate=True), MAX_FILE + 1)
    except (binascii.Error, ValueError, zlib.error) as error:
        raise InvalidInput("The file could not be read back. Upload it again.") from error
    if not inflate.eof:
        raise InvalidInput("The file could not be read back whole. Upload it again.")
    return data


@bp.route("/courses/import", methods=["GET", "POST"])
@roles_required(*STAFF)
@takes_uploads
def import_course():
    """The upload form; a POST reads the file and shows what would be created (a dry run:
    nothing is written), with a button to confirm."""
    _actor()
    form = CourseImportForm()
    if not form.validate_on_submit():
        status = oversized_upload(form.file) or (400 if form.is_submitted() else 200)
        return render_template("courses/course_import.html", form=form), status
    data = form.file.data.read(MAX_FILE + 1)
    filename = (form.file.data.filename or "course.zip").rsplit("/", 1)[-1][:200]
    if len(data) > MAX_FILE:
        form.file.errors = [f"The file is too large: at most {MAX_FILE // (1024 * 1024)} MB."]
        return render_template("courses/course_import.html", form=form), 413
    as_code = (form.as_code.data or "").strip() or None
    try:
        report = load.read_any(data, filename)
        if as_code:
            report.data = importer.with_code(report.data, as_code)
        importer.check_codes(report.data, as_code=as_code)
    except PackageError as error:
        form.file.errors = [f"Nothing can be imported: {error}"]
        return render_template("courses/course_import.html", form=form), 422
    except DomainError as error:
        form.as_code.errors = [error.message]
        return render_template("courses/course_import.html", form=form), error.status_code
    confirm = ConfirmCourseImportForm(
        formdata=None, content=_pack(data), filename=filename, as_code=as_code or ""
    )
    return render_template("courses/course_import_preview.html", report=report, confirm=confirm)


@bp.post("/courses/import/confirm")
@roles_required(*STAFF)
def import_confirm():
    """Import the previewed file: the whole course, or nothing."""
    actor = _actor()
    form = ConfirmCourseImportForm()
    if not form.validate_on_submit():
        raise InvalidInput("The import could not be checked. Upload the file again.")
    data = _unpack(form.content.data)
    try:
        report = load.read_any(data, form.filename.data)
    except PackageError as error:
        raise InvalidInput(f"Nothing imported: {error}") from error
    course = load.import_report(
        report, actor=actor, now=utcnow(), as_code=form.as_code.data or None
    )
    flash(f"Course {course.code} imported: {len(report.data['modules'])} modules.", "success")
    return redirect(url_for("courses.course_list"))


@bp.get("/courses/export/<code>.<kind>")
@roles_required(*STAFF)
def export_course(code: str, kind: str):
    """Download a course as our package (``zip``, every module) or a Common Cartridge 1.3
    (``imscc``: the published modules, or every one with ``?drafts=1``)."""
    _actor()
    if kind == "imscc":
        drafts = request.args.get("drafts") == "1"
        body, _ = cartridge_out.export_course(code, include_drafts=drafts)
    elif kind == "zip":
        body = native.export_course(code, utcnow())
    else:
        raise InvalidInput("Export as .zip (course package) or .imscc (Common Cartridge).")
    response = Response(body, mimetype="application/zip")
    name = f"{code}.{kind}"
    response.headers.set("Content-Disposition", "attachment", **headers.download_names(name))
    return response
