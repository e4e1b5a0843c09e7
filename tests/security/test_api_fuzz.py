"""Fuzzing of the JSON API with schemathesis, in-process against its own OpenAPI document.

schemathesis reads /api/v1/openapi.json from the app (its WSGI support calls the Flask app
directly, no network), generates requests for every operation from the document, sends them
with a read token (GET) or a write token (POST) and checks each response: never a server
error, and its status code, content type, headers and body all as the document says.

The seed is fixed and the number of examples per operation bounded, so a run is repeatable and
takes seconds; writes land in the test's own fresh database, which is thrown away.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from schemathesis import checks

from lms.auth import tokens
from lms.auth.models import Role
from lms.db import utcnow
from lms.extensions import db
from tests import factories

EXAMPLES_PER_OPERATION = 25
SEED = 20261126

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def school(app):
    """Some records for the generated requests to find: a cohort, students, completions."""
    factories.course("TERM", modules=2)
    credential = factories.credential("CPC", modules=["TERM-1", "TERM-2"])
    teacher = factories.user(Role.INSTRUCTOR)
    students = [factories.user(Role.STUDENT) for _ in range(3)]
    factories.cohort(teacher, credential, students[:2])
    factories.pass_module(students[0], "TERM-1")
    factories.pass_module(students[0], "TERM-2")
    factories.pass_module(students[1], "TERM-1")
    admin = factories.user(Role.ADMIN)
    secrets = {}
    for scope in tokens.TokenScope:
        _, secrets[scope] = tokens.create_token(
            admin, name=f"fuzz {scope.value}", scope=scope, days=30, now=utcnow()
        )
    db.session.commit()
    return secrets


def operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    found = [result.ok() for result in schema.get_all_operations()]
    assert found, "the OpenAPI document lists no operations"
    return found


def fuzzer(operation, headers):
    """A hypothesis test sending the operation's generated cases with these headers."""

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def fuzz(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    return fuzz


def test_the_api_fuzzed_from_its_document_never_fails_nor_strays_from_it(app, school):
    fuzzed = []
    for operation in operations(app):
        method = operation.method.upper()
        scope = tokens.TokenScope.READ if method == "GET" else tokens.TokenScope.WRITE
        fuzzer(operation, {"Authorization": f"Bearer {school[scope]}"})()
        fuzzed.append(f"{method} {operation.path}")
    assert len(fuzzed) >= 10, fuzzed


def test_record_numbers_beyond_the_databases_integers_are_refused_not_crashed(client, school):
    """The fuzzer's first finding: a student_id of 2**63 reached the database (500)."""
    huge = 2**63
    write = {"Authorization": f"Bearer {school[tokens.TokenScope.WRITE]}"}
    read = {"Authorization": f"Bearer {school[tokens.TokenScope.READ]}"}
    for url, body in (
        ("/api/v1/completions", {"student_id": huge, "module_code": "TERM-1"}),
        ("/api/v1/certificates", {"student_id": huge, "credential_code": "CPC"}),
    ):
        response = client.post(url, json=body, headers=write)
        assert response.status_code == 422, (url, response.get_data(as_text=True))
        assert "student_id" in response.get_json()["error"]["fields"]["json"]
    response = client.get(f"/api/v1/readiness?student_id={huge}&credential=CPC", headers=read)
    assert response.status_code == 422
    for url in (
        f"/api/v1/users/{huge}",
        f"/api/v1/cohorts/{huge}/enrollments",
        f"/api/v1/exports/{huge}/manifest",
    ):
        response = client.get(url, headers=read)
        assert response.status_code == 404, url
        assert response.get_json()["error"]["status"] == 404
