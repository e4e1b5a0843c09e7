"""xAPI statements for each kind of ledger entry: the mapping (no app needed), then a
school's real events exported and read back as an LRS would (issue 20, item 18)."""

import json
from datetime import UTC, datetime

import pytest

from lms.auth.models import Role
from lms.credentials import outcomes
from lms.credentials import service as credentials
from lms.credentials.models import Certificate, RevocationReason
from lms.credentials.rules import EvidenceKind
from lms.extensions import db
from lms.reports.exports import VERBS, xapi_statement
from tests import factories
from tests.conftest import login
from tests.factories import NOW


def record(**changes):
    base = {
        "entry_id": 7,
        "recorded_at": datetime(2026, 11, 2, 15, 30, tzinfo=UTC),
        "student_id": 12,
        "student_email": "sam@example.org",
        "student_name": "Sam Rivera",
        "kind": "module_completed",
        "course_code": "CODING",
        "module_code": "CODING-2",
        "module_title": "CPT sections",
        "credential_code": None,
        "score": 85.0,
        "source": "quiz",
        "source_ref": "attempt:3",
        "actor_email": "sam@example.org",
        "note": None,
        "evidence_id": None,
        "exam_passed": None,
    }
    return base | changes


@pytest.mark.parametrize(
    ("changes", "verb", "activity", "success"),
    [
        ({}, "passed", "module/CODING-2", True),
        ({"score": None, "source": "api"}, "completed", "module/CODING-2", None),
        (
            {"kind": "certificate_issued", "module_code": None, "credential_code": "CPC"},
            "completed",
            "credential/CPC",
            True,
        ),
        ({"kind": "evidence_verified", "evidence_id": 4}, "passed", "evidence/4", True),
        ({"kind": "evidence_rejected", "evidence_id": 4}, "failed", "evidence/4", False),
        ({"kind": "evidence_submitted", "evidence_id": 4}, "submitted", "evidence/4", None),
        (
            {"kind": "exam_outcome_recorded", "credential_code": "CCA", "exam_passed": True},
            "passed",
            "credential/CCA/exam",
            True,
        ),
        (
            {"kind": "exam_outcome_recorded", "credential_code": "CPC", "exam_passed": False},
            "failed",
            "credential/CPC/exam",
            False,
        ),
        (
            {"kind": "override_granted", "source": "override:met", "source_ref": "CODING-2"},
            "passed",
            "module/CODING-2",
            True,
        ),
        (
            {
                "kind": "override_granted",
                "source": "override:not_met",
                "module_code": None,
                "credential_code": "CPC",
                "source_ref": "evidence:hs_diploma_or_ged",
            },
            "failed",
            "credential/CPC/requirement/evidence%3Ahs_diploma_or_ged",
            False,
        ),
        ({"kind": "override_revoked", "source": "override"}, "cancelled", "module/CODING-2", None),
    ],
)
def test_statement_for_each_kind(changes, verb, activity, success):
    statement = xapi_statement(record(**changes), "https://school.example/")
    assert statement["verb"]["id"] == VERBS[verb]
    assert statement["object"]["id"].startswith(
        "https://school.example/xapi/activities/" + activity
    )
    assert statement["actor"] == {
        "objectType": "Agent",
        "name": "Sam Rivera",
        "account": {"homePage": "https://school.example", "name": "12"},
    }
    assert statement["timestamp"] == "2026-11-02T15:30:00+00:00"
    assert statement.get("result", {}).get("success") == success


def test_a_score_is_scaled_between_zero_and_one():
    result = xapi_statement(record(score=72.5), "https://school.example")["result"]
    assert result["score"] == {"scaled": 0.725, "raw": 72.5, "min": 0, "max": 100}
    assert result["completion"] is True


def test_a_revocation_voids_the_statement_of_the_issue():
    base = "https://school.example"
    issued = record(kind="certificate_issued", source_ref="certificate:9", entry_id=20)
    revoked = record(kind="certificate_revoked", source_ref="certificate:9", entry_id=31)
    revocation = xapi_statement(revoked, base)
    assert revocation["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided"
    assert revocation["object"] == {
        "objectType": "StatementRef",
        "id": xapi_statement(issued, base)["id"],
    }
    assert "result" not in revocation


def test_a_school_s_events_come_out_with_one_iri_per_object(app, client):
    """Evidence submitted then verified, a certificate issued then revoked, a real exam
    passed with its score: exported and read as an LRS would."""
    factories.course("TERM", modules=1)
    credential = factories.credential("CPC", modules=["TERM-1"])
    instructor = factories.user(Role.INSTRUCTOR)
    admin = factories.user(Role.ADMIN)
    student = factories.user(Role.STUDENT)
    factories.cohort(instructor, credential, [student])
    evidence = credentials.submit_evidence(
        student, EvidenceKind.HS_DIPLOMA_OR_GED, "Valley High School, 2019", NOW
    )
    credentials.decide_evidence(instructor, evidence, verified=True, reason="", now=NOW)
    factories.pass_module(student, "TERM-1")  # ready: a certificate is issued
    certificate = db.session.query(Certificate).one()
    credentials.revoke_certificate(
        instructor,
        certificate,
        RevocationReason.ISSUED_IN_ERROR.value,
        "Wrong cohort.",
        NOW,
        instructor_may=True,  # the instructor teaches the student in a CPC cohort
    )
    outcomes.record_exam_outcome(
        instructor,
        student,
        credential,
        exam_date=NOW.date(),
        passed=True,
        score=82.0,
        now=NOW,
    )
    db.session.commit()
    login(client, admin.email)

    response = client.get("/admin/exports/download?format=xapi")

    assert response.status_code == 200
    statements = json.loads(response.get_data())
    by_verb: dict[str, list[dict]] = {}
    for statement in statements:
        by_verb.setdefault(statement["verb"]["display"]["en-US"], []).append(statement)
    submitted, verified = by_verb["submitted"][0], by_verb["passed"][0]
    evidence_iri = f"http://localhost/xapi/activities/evidence/{evidence.id}"
    assert submitted["object"]["id"] == verified["object"]["id"] == evidence_iri
    (issue,) = [s for s in by_verb["completed"] if "credential/CPC" in s["object"]["id"]]
    (void,) = by_verb["voided"]
    assert void["object"] == {"objectType": "StatementRef", "id": issue["id"]}
    (exam,) = [s for s in by_verb["passed"] if s["object"]["id"].endswith("/CPC/exam")]
    assert exam["result"] == {"completion": True, "success": True, "score": {"raw": 82.0}}
    # every statement's id is unique (an LRS refuses a batch with two alike)
    assert len({s["id"] for s in statements}) == len(statements)
