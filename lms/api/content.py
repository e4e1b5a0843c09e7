"""The API's content resources (issue 16): create and update courses, modules and their
lessons' drafts, and publish a draft, with a token of the ``content:write`` scope. They call
the editor's service (``lms.courses.authoring``), so the rules, the 409 on a stale draft and
the audit entries are the same as in the browser."""

from __future__ import annotations

from typing import Any

from flask import g

from lms.api import schemas
from lms.api.core import new_blueprint, token_required
from lms.auth.tokens import TokenScope
from lms.courses import catalogue
from lms.courses.authoring import service as authoring
from lms.courses.rules import authoring as rules
from lms.db import utcnow

content = new_blueprint(
    "Content",
    "Courses, modules and lessons: drafts written and published as in the editor "
    "(tokens of the content:write scope).",
)

READ = TokenScope.READ
CONTENT_WRITE = TokenScope.CONTENT_WRITE
ERRORS = (400, 401, 403, 404, 409, 422)


def _errors(view):
    for status in ERRORS:
        view = content.alt_response(status, schema=schemas.ApiErrorSchema)(view)
    return view


def _course(course_id: int) -> dict[str, Any]:
    course, modules = authoring.course_with_all_modules(course_id)
    return {
        "id": course.id,
        "code": course.code,
        "title": course.title,
        "topic_area": course.topic_area,
        "description": course.description,
        "sequential": course.sequential,
        "archived": course.archived_at is not None,
        "modules": modules,
    }


def _module(module_id: int) -> dict[str, Any]:
    module = authoring.get_module(module_id)
    draft = authoring.draft_of(module)
    return {
        "id": module.id,
        "course_id": module.course_id,
        "code": module.code,
        "position": module.position,
        "title": module.title,
        "estimated_minutes": module.estimated_minutes,
        "published_version": module.published_version,
        "archived": module.archived_at is not None,
        "draft": draft,
        "versions": authoring.versions_of(module),
    }


@content.route("/courses", methods=["POST"])
@token_required(CONTENT_WRITE)
@content.arguments(schemas.CourseWrite)
@content.response(201, schemas.CourseDetail)
@_errors
def create_course(data: dict[str, Any]):
    """Create a course (without modules yet)."""
    sequential = data.pop("sequential")
    course = authoring.create_course(
        g.api_user, rules.CourseFields(**data), utcnow(), sequential=sequential
    )
    return _course(course.id)


@content.route("/courses/<int(max=2147483647):course_id>", methods=["GET"])
@token_required(READ)
@content.response(200, schemas.CourseDetail)
@_errors
def get_course(course_id: int):
    """A course with every module, drafts and archived ones too."""
    return _course(course_id)


@content.route("/courses/<int(max=2147483647):course_id>", methods=["PATCH"])
@token_required(CONTENT_WRITE)
@content.arguments(schemas.CourseUpdate)
@content.response(200, schemas.CourseDetail)
@_errors
def update_course(data: dict[str, Any], course_id: int):
    """Change a course's fields, its gating, or archive it; the fields left out stay."""
    now = utcnow()
    course = catalogue.get_course(course_id)
    fields = rules.CourseFields(
        code=data.get("code", course.code),
        title=data.get("title", course.title),
        topic_area=data.get("topic_area", course.topic_area),
        description=data.get("description", course.description),
    )
    authoring.update_course(g.api_user, course.id, fields, now)
    if "sequential" in data:
        catalogue.set_sequential(g.api_user, course.id, data["sequential"], now)
    if "archived" in data:
        authoring.archive_course(g.api_user, course.id, data["archived"], now)
    return _course(course.id)


@content.route("/courses/<int(max=2147483647):course_id>/modules", methods=["POST"])
@token_required(CONTENT_WRITE)
@content.arguments(schemas.ModuleWrite)
@content.response(201, schemas.ModuleDetail)
@_errors
def create_module(data: dict[str, Any], course_id: int):
    """Add a module at the end of a course, its lesson as the first draft (students see it
    once it is published)."""
    module = authoring.add_module(
        g.api_user,
        course_id,
        rules.ModuleFields(data["code"], data["title"], data["estimated_minutes"]),
        utcnow(),
        lesson_markdown=data["lesson_markdown"],
    )
    return _module(module.id)


@content.route("/modules/<int(max=2147483647):module_id>", methods=["GET"])
@token_required(READ)
@content.response(200, schemas.ModuleDetail)
@_errors
def get_module(module_id: int):
    """A module with its draft (and the draft's revision) and its published versions."""
    return _module(module_id)


@content.route("/modules/<int(max=2147483647):module_id>", methods=["PATCH"])
@token_required(CONTENT_WRITE)
@content.arguments(schemas.DraftUpdate)
@content.response(200, schemas.ModuleDetail)
@_errors
def update_module(data: dict[str, Any], module_id: int):
    """Save the module's draft (title, minutes, lesson); ``revision`` is the draft's revision
    the change starts from: another save since is a 409 and nothing is written."""
    module = authoring.get_module(module_id)
    draft = authoring.draft_of(module)
    authoring.save_draft(
        g.api_user,
        module.id,
        title=data.get("title", draft.title),
        estimated_minutes=data.get("estimated_minutes", draft.estimated_minutes),
        lesson_markdown=data.get("lesson_markdown", draft.lesson_markdown),
        revision=data["revision"],
        now=utcnow(),
    )
    return _module(module.id)


@content.route("/modules/<int(max=2147483647):module_id>/publish", methods=["POST"])
@token_required(CONTENT_WRITE)
@content.arguments(schemas.PublishWrite)
@content.response(201, schemas.VersionSchema)
@_errors
def publish_module(data: dict[str, Any], module_id: int):
    """Publish the module's draft as its next version, the one students see."""
    return authoring.publish(
        g.api_user, module_id, data["note"], utcnow(), revision=data.get("revision")
    )
