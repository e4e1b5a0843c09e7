"""The content API (issue 16): courses, modules and lesson drafts created, changed and
published with a content:write token, through the editor's own service; every response is
checked against the OpenAPI document, and bad input leaves the database as it was."""

from sqlalchemy import func, select

from lms.auth import tokens
from lms.auth.models import Role
from lms.courses.authoring.models import ModuleDraft, ModuleVersion
from lms.courses.models import Course, Module
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.api import test_api

make_token = test_api.make_token
spec, call = test_api.spec, test_api.call  # the fixtures checking answers against the document

CONTENT = tokens.TokenScope.CONTENT_WRITE


def _counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Course, Module, ModuleDraft, ModuleVersion, AuditEvent)
    )


def test_a_course_is_written_and_published_through_the_api(app, call):
    secret = make_token(factories.user(Role.ADMIN), CONTENT)
    course = call(
        "POST",
        "/api/v1/courses",
        secret,
        json={"code": "CPT-SURG", "title": "CPT Surgery: Integumentary", "topic_area": "coding"},
    )
    assert course.status_code == 201, course.get_json()
    course_id = course.get_json()["id"]
    module = call(
        "POST",
        f"/api/v1/courses/{course_id}/modules",
        secret,
        json={
            "code": "CPT-SURG-1",
            "title": "Wound repair",
            "estimated_minutes": 45,
            "lesson_markdown": "# Wound repair\n\nSum the lengths.\n",
        },
    )
    assert module.status_code == 201
    body = module.get_json()
    assert body["published_version"] is None and body["draft"]["revision"] == 1
    module_id = body["id"]

    saved = call(
        "PATCH",
        f"/api/v1/modules/{module_id}",
        secret,
        json={"revision": 1, "lesson_markdown": "# Wound repair\n\nAdd the lengths first.\n"},
    )
    assert saved.status_code == 200 and saved.get_json()["draft"]["revision"] == 2
    stale = call("PATCH", f"/api/v1/modules/{module_id}", secret, json={"revision": 1})
    assert stale.status_code == 409
    assert "The draft changed since you opened it" in stale.get_json()["error"]["message"]
    assert "lesson_markdown" in stale.get_json()["error"]["fields"]

    published = call(
        "POST", f"/api/v1/modules/{module_id}/publish", secret, json={"note": "First version"}
    )
    assert published.status_code == 201 and published.get_json()["number"] == 1
    got = call("GET", f"/api/v1/modules/{module_id}", secret).get_json()
    assert got["published_version"] == 1 and got["versions"][0]["note"] == "First version"
    lesson = db.session.get(Module, module_id)
    assert lesson.published_version == 1
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"course.created", "module.created", "module.draft_saved", "module.published"} <= actions

    patched = call(
        "PATCH", f"/api/v1/courses/{course_id}", secret, json={"archived": True, "title": "Skin"}
    )
    assert patched.status_code == 200
    assert patched.get_json()["archived"] is True and patched.get_json()["title"] == "Skin"


def test_bad_content_is_refused_with_its_field_and_nothing_is_written(app, call):
    factories.course("TERM")
    admin = factories.user(Role.ADMIN)
    secret = make_token(admin, CONTENT)
    reader = make_token(admin, tokens.TokenScope.READ)
    writer = make_token(admin, tokens.TokenScope.WRITE)  # records, not content
    course_id = db.session.scalar(select(Course.id))
    before = _counts()
    empty = call(
        "POST", "/api/v1/courses", secret, json={"code": "X1", "title": " ", "topic_area": "c"}
    )
    assert empty.status_code == 400 and empty.get_json()["error"]["fields"]["title"]
    taken = call(
        "POST", "/api/v1/courses", secret, json={"code": "TERM", "title": "T", "topic_area": "c"}
    )
    assert taken.status_code == 409
    module = {"code": "TERM-1", "title": "Again", "estimated_minutes": 10}
    duplicate = call("POST", f"/api/v1/courses/{course_id}/modules", secret, json=module)
    assert duplicate.status_code == 409 and duplicate.get_json()["error"]["fields"]["code"]
    html = {**module, "code": "TERM-7", "lesson_markdown": "<script>alert(1)</script>"}
    refused = call("POST", f"/api/v1/courses/{course_id}/modules", secret, json=html)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["fields"]["lesson_markdown"]
    huge = {**module, "code": "TERM-8", "lesson_markdown": "a" * 1_000_001}
    assert (
        call("POST", f"/api/v1/courses/{course_id}/modules", secret, json=huge).status_code == 400
    )
    unknown = call("POST", f"/api/v1/courses/{course_id}/modules", secret, json={**module, "x": 1})
    assert unknown.status_code == 422
    assert call("POST", "/api/v1/courses", reader, json={}).status_code == 403
    answer = call(
        "POST", "/api/v1/courses", writer, json={"code": "X2", "title": "T", "topic_area": "c"}
    )
    assert answer.status_code == 403
    assert _counts() == before
