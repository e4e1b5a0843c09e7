"""The JSON API v1, every response checked against its own OpenAPI document."""

import hashlib
import json
from datetime import timedelta

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_spec_validator import validate as validate_spec
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from lms.auth import tokens
from lms.auth.models import Role
from lms.db import utcnow
from lms.extensions import db
from lms.ledger.models import AuditEvent, LedgerEntry
from lms.reports.models import ExportDisclosure
from tests import factories
from tests.conftest import login


@pytest.fixture
def school(app):
    factories.course("TERM", modules=2)
    credential = factories.credential("CPC", modules=["TERM-1", "TERM-2"])
    teacher = factories.user(Role.INSTRUCTOR)
    students = [factories.user(Role.STUDENT) for _ in range(3)]
    cohort = factories.cohort(teacher, credential, students[:2])
    factories.pass_module(students[0], "TERM-1")
    factories.pass_module(students[0], "TERM-2")  # and a certificate
    factories.pass_module(students[1], "TERM-1")
    factories.pass_module(students[2], "TERM-2")
    admin = factories.user(Role.ADMIN, email="sis@example.org")
    return {"cohort": cohort, "students": students, "admin": admin, "teacher": teacher}


def make_token(user, scope=tokens.TokenScope.READ, days=30):
    _, secret = tokens.create_token(user, name="SIS", scope=scope, days=days, now=utcnow())
    db.session.commit()
    return secret


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate_spec(document)
    return OpenAPI.from_dict(document)


@pytest.fixture
def call(client, spec):
    """Call the API and check the response against the OpenAPI document."""

    def call(method, url, token=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = client.open(url, method=method, headers=headers, **kwargs)
        # The operation is found by method and path; the body was read by the app already.
        sent = response.request
        request = Request(
            EnvironBuilder(
                method=sent.method, path=sent.path, query_string=sent.query_string.decode()
            ).get_environ()
        )
        spec.validate_response(WerkzeugOpenAPIRequest(request), WerkzeugOpenAPIResponse(response))
        return response

    return call


def counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (LedgerEntry, AuditEvent)
    )


def test_the_document_is_generated_and_documented(client, spec):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert {"/api/v1/completions", "/api/v1/users", "/api/v1/readiness"} <= set(document["paths"])
    post = document["paths"]["/api/v1/completions"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("/CompletionCreate")
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "GET /api/v1/completions" in page and "CompletionCreate" in page
    assert "cdn" not in page.lower()


def test_a_script_lists_every_completion_page_by_page(call, school):
    token = make_token(school["admin"])
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = call("GET", "/api/v1/completions", token, query_string=query)
        assert response.status_code == 200
        body = response.get_json()
        seen += [item["entry_id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    all_ids = list(db.session.scalars(select(LedgerEntry.id).order_by(LedgerEntry.id)))
    assert seen == all_ids and pages == 3
    # Each page is in the disclosure log of the students it contained.
    assert db.session.scalar(select(func.count()).select_from(ExportDisclosure)) >= 3


def test_completions_filtered_by_cohort(call, school):
    token = make_token(school["admin"])
    response = call(
        "GET", "/api/v1/completions", token, query_string={"cohort": school["cohort"].id}
    )
    emails = {item["student_email"] for item in response.get_json()["items"]}
    assert emails == {s.email for s in school["students"][:2]}


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"cohort": "999"}, 400),
        ({"from": "2026-12-01", "to": "2026-11-01"}, 400),
        ({"kind": "nonsense"}, 400),
        ({"limit": "0"}, 422),
        ({"limit": "many"}, 422),
        ({"colour": "blue"}, 422),
    ],
)
def test_bad_filters_answer_json_errors(call, school, query, status):
    token = make_token(school["admin"])
    before = counts()
    response = call("GET", "/api/v1/completions", token, query_string=query)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["status"] == status and error["message"]
    assert counts() == before


def test_a_tampered_cursor_is_refused(call, school):
    token = make_token(school["admin"])
    first = call("GET", "/api/v1/completions", token, query_string={"limit": 1}).get_json()
    cursor = first["next_cursor"]
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    response = call("GET", "/api/v1/completions", token, query_string={"cursor": tampered})
    assert response.status_code == 400
    assert "cursor" in response.get_json()["error"]["message"]
    other_filters = call(
        "GET",
        "/api/v1/completions",
        token,
        query_string={"cursor": cursor, "kind": "module_completed"},
    )
    assert other_filters.status_code == 400


def test_missing_revoked_expired_and_foreign_tokens_get_401(call, school):
    assert call("GET", "/api/v1/users").status_code == 401
    response = call("GET", "/api/v1/users", "lms_pat_not-a-real-token")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    revoked = make_token(school["admin"])
    token_id = db.session.scalar(select(tokens.ApiToken.id).order_by(tokens.ApiToken.id.desc()))
    tokens.revoke_token(school["admin"], token_id, utcnow())
    db.session.commit()
    assert call("GET", "/api/v1/users", revoked).status_code == 401
    expired = make_token(school["admin"])
    row = db.session.scalar(select(tokens.ApiToken).order_by(tokens.ApiToken.id.desc()))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert call("GET", "/api/v1/users", expired).status_code == 401


def test_a_read_token_cannot_write(call, school):
    token = make_token(school["admin"], tokens.TokenScope.READ)
    before = counts()
    response = call(
        "POST",
        "/api/v1/completions",
        token,
        json={"student_id": school["students"][2].id, "module_code": "TERM-1", "score": 90},
    )
    assert response.status_code == 403
    assert "read-only" in response.get_json()["error"]["message"]
    assert counts() == before


def test_an_integration_records_a_completion(call, school):
    token = make_token(school["admin"], tokens.TokenScope.WRITE)
    student = school["students"][2]
    response = call(
        "POST",
        "/api/v1/completions",
        token,
        json={
            "student_id": student.id,
            "module_code": "TERM-1",
            "score": 88.5,
            "source_ref": "sis:4711",
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["student_id"], body["module_code"], body["score"]) == (student.id, "TERM-1", 88.5)
    assert (body["source"], body["source_ref"]) == ("api", "sis:4711")
    entry = db.session.get(LedgerEntry, body["entry_id"])
    assert entry.actor_id == school["admin"].id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "completion.recorded"))
    assert event.target_id == str(entry.id)
    token_row = db.session.scalar(select(tokens.ApiToken))
    assert token_row.last_used_at is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"module_code": "TERM-1"}, "student_id"),
        ({"student_id": "3", "module_code": "TERM-1"}, "student_id"),
        ({"student_id": 3, "module_code": "TERM-1", "score": 101}, "score"),
        ({"student_id": 3, "module_code": "TERM-1", "grade": "A"}, "grade"),
        ({"student_id": 9999, "module_code": "TERM-1"}, "student_id"),
        ({"student_id": 3, "module_code": "NOPE-1"}, "module_code"),
    ],
)
def test_a_body_of_the_wrong_shape_changes_nothing(call, school, body, field):
    token = make_token(school["admin"], tokens.TokenScope.WRITE)
    before = counts()
    response = call("POST", "/api/v1/completions", token, json=body)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert field in error["fields"]["json"]
    assert counts() == before


def test_not_json_at_all(call, school):
    token = make_token(school["admin"], tokens.TokenScope.WRITE)
    response = call("POST", "/api/v1/completions", token, data="{", content_type="application/json")
    assert response.status_code in (400, 422)
    assert response.get_json()["error"]["status"] == response.status_code


def test_people_resources(call, school):
    token = make_token(school["admin"])
    users = call("GET", "/api/v1/users", token, query_string={"role": "student"}).get_json()
    assert [u["email"] for u in users["items"]] == [s.email for s in school["students"]]
    one = call("GET", f"/api/v1/users/{school['teacher'].id}", token).get_json()
    assert one["role"] == "instructor"
    assert call("GET", "/api/v1/users/9999", token).status_code == 404
    courses = call("GET", "/api/v1/courses", token).get_json()["items"]
    assert [m["code"] for m in courses[0]["modules"]] == ["TERM-1", "TERM-2"]
    cohorts = call("GET", "/api/v1/cohorts", token).get_json()["items"]
    assert cohorts[0]["credential_code"] == "CPC"
    enrolled = call("GET", f"/api/v1/cohorts/{school['cohort'].id}/enrollments", token)
    assert len(enrolled.get_json()["items"]) == 2
    assert call("GET", "/api/v1/cohorts/999/enrollments", token).status_code == 404


def test_readiness(call, school):
    token = make_token(school["admin"])
    ready, partial = school["students"][0], school["students"][1]
    body = call(
        "GET",
        "/api/v1/readiness",
        token,
        query_string={"student_id": ready.id, "credential": "CPC"},
    ).get_json()
    assert body["ready"] is True and body["missing"] == []
    body = call(
        "GET",
        "/api/v1/readiness",
        token,
        query_string={"student_id": partial.id, "credential": "CPC"},
    ).get_json()
    assert body["ready"] is False and len(body["missing"]) == 1 and body["progress"] == 0.5
    unknown = call(
        "GET", "/api/v1/readiness", token, query_string={"student_id": ready.id, "credential": "X"}
    )
    assert unknown.status_code == 400


def test_no_certificate_through_the_api_for_an_unconfirmed_awarding_body(call, school):
    token = make_token(school["admin"], tokens.TokenScope.WRITE)
    factories.credential("CDEI", modules=["TERM-2"], confirmed=False)
    ready = school["students"][2]  # outside any cohort, and has passed TERM-2
    before = counts()
    refused = call(
        "POST",
        "/api/v1/certificates",
        token,
        json={"student_id": ready.id, "credential_code": "CDEI"},
    )
    assert refused.status_code == 409
    assert refused.get_json()["error"]["message"] == (
        "The awarding body of CDEI is not confirmed in the catalogue: no readiness "
        "certificate is issued for it."
    )
    assert counts() == before


def test_certificates_issue_and_verify(call, school):
    token = make_token(school["admin"], tokens.TokenScope.WRITE)
    student = school["students"][1]
    before = counts()
    refused = call(
        "POST",
        "/api/v1/certificates",
        token,
        json={"student_id": student.id, "credential_code": "CPC"},
    )
    assert refused.status_code == 409 and "not ready" in refused.get_json()["error"]["message"]
    assert counts() == before
    # Students in a cohort get theirs automatically; this one is not in a cohort.
    outsider = school["students"][2]
    factories.pass_module(outsider, "TERM-1")
    issued = call(
        "POST",
        "/api/v1/certificates",
        token,
        json={"student_id": outsider.id, "credential_code": "CPC"},
    )
    assert issued.status_code == 201, issued.get_json()
    code = issued.get_json()["code"]
    verified = call("GET", f"/api/v1/certificates/{code.lower()}", token).get_json()
    assert verified["valid"] is True and verified["student_id"] == outsider.id
    assert verified["verify_url"].endswith(f"/verify/{code}")
    assert call("GET", "/api/v1/certificates/NOPE", token).status_code == 404

    revoke = f"/api/v1/certificates/{code}/revoke"
    empty = call("POST", revoke, token, json={"public_reason": "issued_in_error", "note": ""})
    assert empty.status_code == 422
    unknown = call("POST", revoke, token, json={"public_reason": "because", "note": "x"})
    assert unknown.status_code == 422
    revoked = call(
        "POST",
        revoke,
        token,
        json={"public_reason": "issued_in_error", "note": "Issued to the wrong student."},
    )
    assert revoked.status_code == 200, revoked.get_json()
    assert revoked.get_json()["status"] == "revoked" and revoked.get_json()["valid"] is False
    before = counts()
    again = call("POST", revoke, token, json={"public_reason": "other", "note": "Twice."})
    assert again.status_code == 409
    assert counts() == before
    read_only = make_token(school["admin"], tokens.TokenScope.READ)
    body = {"public_reason": "other", "note": "x"}
    assert call("POST", revoke, read_only, json=body).status_code == 403


def test_exports_through_the_api_match_their_manifest(call, school):
    token = make_token(school["admin"])
    response = call("GET", "/api/v1/exports/completions", token, query_string={"format": "jsonl"})
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    run_id = response.headers["X-Export-Id"]
    assert f"/api/v1/exports/{run_id}/manifest" in response.headers["Link"]
    manifest = call("GET", f"/api/v1/exports/{run_id}/manifest", token).get_json()
    assert manifest["row_count"] == len(lines)
    assert manifest["sha256"] == hashlib.sha256(response.get_data()).hexdigest()
    assert manifest["channel"] == "api" and manifest["exported_by"] == "sis@example.org"
    bad = call("GET", "/api/v1/exports/completions", token, query_string={"format": "pdf"})
    assert bad.status_code == 422


def test_unknown_api_paths_answer_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


def test_a_logged_in_session_is_not_a_token(client, school):
    login(client, school["admin"].email)
    assert client.get("/api/v1/users").status_code == 401


def test_browser_forms_still_need_csrf_but_the_api_does_not(client, school):
    login(client, school["admin"].email)
    before = db.session.scalar(select(func.count()).select_from(tokens.ApiToken))
    response = client.post("/admin/tokens", data={"name": "x", "scope": "read", "days": "5"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(tokens.ApiToken)) == before


def test_a_token_stops_working_when_its_owner_is_disabled_or_demoted(call, school):
    admin = school["admin"]
    token = make_token(admin)
    assert call("GET", "/api/v1/courses", token).status_code == 200
    admin.role = Role.INSTRUCTOR
    db.session.commit()
    assert call("GET", "/api/v1/courses", token).status_code == 403
    admin.role, admin.active = Role.ADMIN, False
    db.session.commit()
    assert call("GET", "/api/v1/courses", token).status_code == 401


def test_a_retried_completion_is_recorded_once(call, school):
    token = make_token(school["admin"], tokens.TokenScope.WRITE)
    body = {"student_id": school["students"][2].id, "module_code": "TERM-1", "source_ref": "r-1"}
    first = call("POST", "/api/v1/completions", token, json=body)
    before = counts()
    again = call("POST", "/api/v1/completions", token, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["entry_id"] == first.get_json()["entry_id"]
    assert counts() == before
