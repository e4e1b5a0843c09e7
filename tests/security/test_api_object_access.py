"""Every API route with an object in its URL, tried with every kind of token.

The five-person table of ``test_object_access.py`` does not fit the JSON API: it takes no
session cookie, only a personal access token, and only admins may hold tokens (students and
instructors cannot create one, so "the owner student" or "the cohort's instructor" never
reach the API). What can go wrong here is a token that should not work: none at all, a
revoked or expired one, one of an account that is no longer an admin or is disabled, or a
read-only token on a route that writes. So each route in ``TOKEN_CASES`` is called with:

- ``read``: a read-scope token of an admin;
- ``write``: a write-scope token of an admin (write covers read);
- ``other_admin``: a read token of another admin (admins see every record, in the API as on
  the web pages, so their tokens work too);
- ``none``: no token (401);
- ``revoked`` and ``expired`` tokens (401);
- ``demoted``: a token whose owner has since become an instructor (403);
- ``disabled``: a token whose owner's account is disabled (401);
- ``missing``: a usable token, but an id that names nothing (404).

Only the allowed kinds get 200, every other answer is 401/403/404 and is logged as a
denial. An API route with an argument in its URL that is in neither table fails
``test_every_object_route_is_in_the_table``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.auth import service as auth
from lms.auth import tokens
from lms.auth.models import Role, User
from lms.credentials.models import Certificate
from lms.db import utcnow
from lms.extensions import db
from lms.reports import export_runs
from tests import factories

READ = tokens.TokenScope.READ
WRITE = tokens.TokenScope.WRITE
CONTENT = tokens.TokenScope.CONTENT_WRITE
ALLOWED = frozenset({"read", "write", "other_admin", "content"})
# The token kind each writing scope lets in (a read route lets in every allowed kind).
WRITER = {WRITE: "write", CONTENT: "content"}
REFUSED = {"none": 401, "revoked": 401, "expired": 401, "demoted": 403, "disabled": 401}


@dataclass
class ApiWorld:
    """A cohort with a student who holds a certificate, an admin's export, and the admins."""

    admin: User
    other_admin: User
    student: User
    cohort_id: int
    certificate_code: str
    run_id: int


@dataclass(frozen=True)
class TokenCase:
    """One API route: its URL for an object that exists, for one that does not, the scope."""

    build: Callable[[ApiWorld], str]
    missing: str
    scope: tokens.TokenScope = READ
    body: dict | None = None  # a POST with this JSON body; a GET when None
    method: str = "POST"  # the method of a call with a body


TOKEN_CASES: dict[str, TokenCase] = {
    "People.get_user": TokenCase(lambda w: f"/api/v1/users/{w.student.id}", "/api/v1/users/999999"),
    "People.list_enrollments": TokenCase(
        lambda w: f"/api/v1/cohorts/{w.cohort_id}/enrollments",
        "/api/v1/cohorts/999999/enrollments",
    ),
    "Records.verify_certificate": TokenCase(
        lambda w: f"/api/v1/certificates/{w.certificate_code}", "/api/v1/certificates/NOPE"
    ),
    "Records.export": TokenCase(
        lambda w: "/api/v1/exports/certificates?format=csv", "/api/v1/exports/nothing"
    ),
    "Records.export_manifest": TokenCase(
        lambda w: f"/api/v1/exports/{w.run_id}/manifest", "/api/v1/exports/999999/manifest"
    ),
    "Records.revoke_certificate": TokenCase(
        lambda w: f"/api/v1/certificates/{w.certificate_code}/revoke",
        "/api/v1/certificates/NOPE/revoke",
        scope=WRITE,
        body={"public_reason": "issued_in_error", "note": "Issued by mistake."},
    ),
    # Content (issue 16): a content:write token writes, every usable token reads.
    "Content.get_course": TokenCase(
        lambda w: f"/api/v1/courses/{_term(w).course_id}", "/api/v1/courses/999999"
    ),
    "Content.update_course": TokenCase(
        lambda w: f"/api/v1/courses/{_term(w).course_id}",
        "/api/v1/courses/999999",
        scope=CONTENT,
        body={"title": "Terminology, 2027"},
        method="PATCH",
    ),
    "Content.create_module": TokenCase(
        lambda w: f"/api/v1/courses/{_term(w).course_id}/modules",
        "/api/v1/courses/999999/modules",
        scope=CONTENT,
        body={"code": "TERM-9", "title": "Suffixes", "estimated_minutes": 30},
    ),
    "Content.get_module": TokenCase(
        lambda w: f"/api/v1/modules/{_term(w).id}", "/api/v1/modules/999999"
    ),
    "Content.update_module": TokenCase(
        lambda w: f"/api/v1/modules/{_term(w).id}",
        "/api/v1/modules/999999",
        scope=CONTENT,
        body={"revision": 1, "title": "Roots, 2027"},
        method="PATCH",
    ),
    "Content.publish_module": TokenCase(
        lambda w: f"/api/v1/modules/{_changed_draft(w)}/publish",
        "/api/v1/modules/999999/publish",
        scope=CONTENT,
        body={"note": "Clearer examples"},
    ),
}


def _term(world: ApiWorld):
    return factories.module("TERM-1")


def _changed_draft(world: ApiWorld) -> int:
    """TERM-2 with a draft that differs from its published version."""
    from lms.courses.authoring import service as authoring  # noqa: PLC0415

    module = factories.module("TERM-2")
    draft = authoring.draft_of(module)
    authoring.save_draft(
        None,
        module.id,
        title=draft.title,
        estimated_minutes=draft.estimated_minutes,
        lesson_markdown=draft.lesson_markdown + "\nOne more example.\n",
        revision=draft.revision,
        now=utcnow(),
    )
    db.session.commit()
    return module.id


@pytest.fixture
def world(app) -> ApiWorld:
    factories.course("TERM", modules=2)
    credential = factories.credential("CPC", modules=["TERM-1", "TERM-2"])
    teacher = factories.user(Role.INSTRUCTOR)
    student = factories.user(Role.STUDENT)
    cohort = factories.cohort(teacher, credential, [student])
    factories.pass_module(student, "TERM-1")
    factories.pass_module(student, "TERM-2")  # and a certificate
    code = db.session.scalar(select(Certificate.code).where(Certificate.student_id == student.id))
    admin = factories.user(Role.ADMIN)
    other_admin = factories.user(Role.ADMIN)
    run = export_runs.start_export(
        other_admin,
        "completions",
        "csv",
        {},
        channel="web",
        now=utcnow(),
        base_url="http://localhost",
    )
    db.session.commit()
    return ApiWorld(admin, other_admin, student, cohort.id, code, run.run_id)


def _secret(user: User, scope=READ, days=30) -> str:
    _, secret = tokens.create_token(user, name="SIS", scope=scope, days=days, now=utcnow())
    db.session.commit()
    return secret


def _tokens(world: ApiWorld) -> dict[str, str | None]:
    """One secret of each kind (``None``: no Authorization header)."""
    made = {
        "read": _secret(world.admin),
        "write": _secret(world.admin, WRITE),
        "content": _secret(world.admin, CONTENT),
        "other_admin": _secret(world.other_admin),
        "none": None,
    }
    revoked, made["revoked"] = tokens.create_token(
        world.admin, name="old", scope=READ, days=30, now=utcnow()
    )
    tokens.revoke_token(world.admin, revoked.id, utcnow())
    db.session.commit()
    _, made["expired"] = tokens.create_token(
        world.admin, name="old", scope=READ, days=1, now=utcnow() - timedelta(days=2)
    )
    db.session.commit()
    demoted = factories.user(Role.ADMIN)
    made["demoted"] = _secret(demoted)
    auth.change_role(world.admin, demoted, Role.INSTRUCTOR, utcnow())
    disabled = factories.user(Role.ADMIN)
    made["disabled"] = _secret(disabled)
    auth.set_active(world.admin, disabled, False, utcnow())
    db.session.commit()
    return made


def _call(client, case: TokenCase, url: str, secret: str | None):
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    if case.body is not None:
        return client.open(url, method=case.method, json=case.body, headers=headers)
    return client.get(url, headers=headers)


def _denials(caplog, url: str) -> list[logging.LogRecord]:
    path = url.split("?")[0]
    return [
        r for r in caplog.records if getattr(r, "event", None) == "access_denied" and r.path == path
    ]


@pytest.mark.parametrize("endpoint", sorted(TOKEN_CASES))
def test_api_object_route_takes_only_usable_admin_tokens(app, world, endpoint, caplog):
    case = TOKEN_CASES[endpoint]
    url = case.build(world)
    client = app.test_client()
    for kind, secret in _tokens(world).items():
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="lms"):
            response = _call(client, case, url, secret)
        if kind in ALLOWED and (case.scope is READ or kind == WRITER[case.scope]):
            assert response.status_code in (200, 201), (endpoint, kind, response.get_json())
            continue
        expected = 403 if kind in ALLOWED else REFUSED[kind]
        assert response.status_code == expected, (endpoint, kind, response.status_code)
        assert response.get_json()["error"]["status"] == expected
        denials = _denials(caplog, url)
        assert denials and denials[0].status == expected, f"{kind} on {url} was not logged"


@pytest.mark.parametrize("endpoint", sorted(TOKEN_CASES))
def test_api_object_route_answers_404_for_an_object_that_does_not_exist(
    app, world, endpoint, caplog
):
    case = TOKEN_CASES[endpoint]
    secret = _secret(world.admin, CONTENT if case.scope is CONTENT else WRITE)
    with caplog.at_level(logging.WARNING, logger="lms"):
        response = _call(app.test_client(), case, case.missing, secret)
    assert response.status_code == 404, (endpoint, response.status_code)
    assert _denials(caplog, case.missing), f"the 404 of {case.missing} was not logged"


def test_api_object_routes_only_read(app):
    """Every API object route is a GET, so a read token is the right rule for all of them;
    a route that writes must be added with ``scope=WRITE`` (a read token then gets 403)."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in TOKEN_CASES and TOKEN_CASES[rule.endpoint].scope is READ:
            assert rule.methods - {"HEAD", "OPTIONS"} == {"GET"}, rule.endpoint
