"""xAPI statements for each kind of ledger entry (a pure mapping: no app needed)."""

from datetime import UTC, datetime

import pytest

from lms.reports.exports import ADL_VERBS, xapi_statement


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
        ({"kind": "evidence_verified", "module_code": None}, "passed", "evidence/", True),
        ({"kind": "evidence_rejected", "module_code": None}, "failed", "evidence/", False),
        ({"kind": "evidence_submitted", "module_code": None}, "attempted", "evidence/", None),
    ],
)
def test_statement_for_each_kind(changes, verb, activity, success):
    statement = xapi_statement(record(**changes), "https://school.example/")
    assert statement["verb"]["id"] == ADL_VERBS[verb]
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
