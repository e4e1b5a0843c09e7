"""xAPI statements of the completion ledger: one statement per entry, each event its own verb
(ADL's where one fits), one IRI per object (a module, a credential's evidence item, a
certificate), a revocation voiding the issue's statement. ``stream_xapi`` writes them as the
JSON array an LRS's ``/statements`` accepts."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote

from lms.ledger.models import LedgerKind

# ADL's verbs where one fits the event; "submitted" and "cancelled" have none in ADL's
# vocabulary and come from Activity Streams, as the xAPI registry lists them.
VERBS = {
    "completed": "http://adlnet.gov/expapi/verbs/completed",
    "passed": "http://adlnet.gov/expapi/verbs/passed",
    "failed": "http://adlnet.gov/expapi/verbs/failed",
    "voided": "http://adlnet.gov/expapi/verbs/voided",
    "submitted": "http://activitystrea.ms/schema/1.0/submit",
    "cancelled": "http://activitystrea.ms/schema/1.0/cancel",
}


def _activity(iri: str, name: str) -> dict[str, Any]:
    return {"objectType": "Activity", "id": iri, "definition": {"name": {"en-US": name}}}


def _statement_id(base: str, record: dict[str, Any]) -> str:
    """A UUID v5 per ledger entry (exported twice, posted twice: nothing duplicated); a
    certificate's issue is named by the certificate, so its revocation can void it."""
    if record["kind"] == LedgerKind.CERTIFICATE_ISSUED and record["source_ref"]:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{base}/{record['source_ref']}/issued"))
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{base}/ledger/{record['entry_id']}"))


def _requirement(base: str, record: dict[str, Any]) -> dict[str, Any]:
    """The activity an override is about: the module it names, or the credential's evidence
    requirement (``evidence:<kind>``)."""
    if record["module_code"]:
        return _activity(
            f"{base}/xapi/activities/module/{quote(record['module_code'])}",
            record["module_title"] or record["module_code"],
        )
    key = record["source_ref"] or ""
    credential = record["credential_code"] or ""
    return _activity(
        f"{base}/xapi/activities/credential/{quote(credential)}/requirement/{quote(key)}",
        f"{credential} requirement {key.replace('evidence:', '').replace('_', ' ')}".strip(),
    )


def xapi_statement(record: dict[str, Any], base_url: str) -> dict[str, Any]:
    """An xAPI 1.0.3 statement for a ledger entry (``completion_records(xapi=True)``); the
    actor is the student, identified by account; each object has one IRI, whichever event
    is about it (docs/records.md has the table)."""
    base = base_url.rstrip("/")
    kind = record["kind"]
    score = record["score"]
    credential = record["credential_code"] or ""
    result: dict[str, Any] = {}
    context: dict[str, Any] = {
        "extensions": {f"{base}/xapi/extensions/ledger-entry": record["entry_id"]}
    }
    if kind == LedgerKind.MODULE_COMPLETED:
        verb = "passed" if score is not None else "completed"
        target = _activity(
            f"{base}/xapi/activities/module/{quote(record['module_code'] or '')}",
            record["module_title"] or record["module_code"] or "",
        )
        result = {"completion": True}
        if score is not None:
            result |= {
                "success": True,
                "score": {"scaled": round(score / 100, 4), "raw": score, "min": 0, "max": 100},
            }
    elif kind == LedgerKind.CERTIFICATE_ISSUED:
        verb, result = "completed", {"completion": True, "success": True}
        target = _activity(
            f"{base}/xapi/activities/credential/{quote(credential)}", f"Readiness for {credential}"
        )
    elif kind == LedgerKind.CERTIFICATE_REVOKED:
        # the readiness claim is withdrawn: the issue's statement is voided
        verb = "voided"
        issued = {**record, "kind": LedgerKind.CERTIFICATE_ISSUED.value}
        target = {"objectType": "StatementRef", "id": _statement_id(base, issued)}
    elif kind == LedgerKind.EXAM_OUTCOME_RECORDED:
        passed = record.get("exam_passed")
        verb = "passed" if passed else "failed"
        target = _activity(
            f"{base}/xapi/activities/credential/{quote(credential)}/exam",
            f"The {credential} certification exam",
        )
        result = {"completion": True, "success": bool(passed)}
        if score is not None:  # raw only: AAPC reports a percentage, AHIMA a 100-400 scale
            result["score"] = {"raw": score}
    elif kind in (LedgerKind.OVERRIDE_GRANTED, LedgerKind.OVERRIDE_REVOKED):
        target = _requirement(base, record)
        if kind == LedgerKind.OVERRIDE_REVOKED:
            verb = "cancelled"
        else:
            verb = "passed" if record["source"] == "override:met" else "failed"
            result = {"success": verb == "passed"}
        if record["actor_email"]:
            context["instructor"] = {
                "objectType": "Agent",
                "mbox": f"mailto:{record['actor_email']}",
            }
    else:  # evidence of eligibility: submitted, verified, rejected
        verb = {"evidence_verified": "passed", "evidence_rejected": "failed"}.get(kind, "submitted")
        if verb != "submitted":
            result = {"success": verb == "passed"}
        item = record.get("evidence_id") or record["entry_id"]
        target = _activity(f"{base}/xapi/activities/evidence/{item}", "Eligibility evidence")
    statement = {
        "id": _statement_id(base, record),
        "actor": {
            "objectType": "Agent",
            "name": record["student_name"],
            "account": {"homePage": base, "name": str(record["student_id"])},
        },
        "verb": {"id": VERBS[verb], "display": {"en-US": verb}},
        "object": target,
        "timestamp": record["recorded_at"].isoformat(),
        "context": context,
    }
    if result:
        statement["result"] = result
    return statement


def stream_xapi(records: Iterable[dict[str, Any]], base_url: str) -> Iterator[str]:
    """A JSON array of xAPI statements (what an LRS's /statements accepts), in chunks."""
    yield "["
    parts = []
    for count, record in enumerate(records):
        parts.append(("," if count else "") + "\n" + json.dumps(xapi_statement(record, base_url)))
        if len(parts) == 500:
            yield "".join(parts)
            parts = []
    yield "".join(parts) + "\n]\n"
