"""Certificates of ``synth``: issued to exactly the students the readiness engine finds ready;
a few later revoked, and some followed by the real exam's result."""

from __future__ import annotations

from datetime import datetime, timedelta

from lms.credentials import service as credentials
from lms.credentials.models import Credential
from lms.demo.synth.school import CohortPlan, School

REVOCATION = "Academic integrity review: the qualifying practice exam attempt was voided."


def issue_to_ready(
    school: School, credential: Credential, cohorts: list[CohortPlan], now: datetime, chunk: int
) -> None:
    """Judge the cohorts' active students with the readiness engine, ``chunk`` at a time, and
    issue the certificate to each who is ready, an hour after their last piece of work."""
    rng, w = school.rng, school.w
    exam_of = {sid: c.exam for c in cohorts for sid in c.active_ids}
    ids = [sid for c in cohorts for sid in c.active_ids]
    for start in range(0, len(ids), chunk):
        readiness = credentials.evaluate_readiness(credential, ids[start : start + chunk], now)
        for sid, outcome in readiness.outcomes.items():
            if not outcome.met:
                continue
            issued = min(school.now, school.last_activity[sid] + timedelta(hours=1))
            cert_id = w.next_id("certificate")
            code = credentials.new_certificate_code()
            if len(school.certificate_codes) < 20:
                school.certificate_codes.append(code)
            expires = None
            if credential.validity_months:
                expires = w.ts(credentials.add_months(issued, credential.validity_months))
            snapshot = credentials.certificate_snapshot(
                credential, readiness.requirement_set, outcome
            )
            revoked = rng.random() < 0.02
            w.add(
                "certificate",
                (
                    cert_id,
                    code,
                    sid,
                    credential.id,
                    readiness.requirement_set.id,
                    "revoked" if revoked else "issued",
                    w.ts(issued),
                    None,  # issued automatically
                    w.json(snapshot),
                    expires,
                ),
            )
            w.add(
                "certificate_event",
                (w.next_id("certificate_event"), cert_id, "issued", w.ts(issued), None, None),
            )
            school.ledger(
                sid,
                "certificate_issued",
                issued,
                source="certificate",
                source_ref=f"certificate:{cert_id}",
                credential_id=credential.id,
                actor_id=None,
            )
            if revoked:
                _revoke(school, sid, cert_id, credential.id, issued)
            elif exam_of[sid] < school.now - timedelta(days=7) and rng.random() < 0.8:
                _exam_outcome(school, sid, credential, exam_of[sid], issued)
    w.flush()


def _revoke(school: School, sid: int, cert_id: int, credential_id: int, issued: datetime) -> None:
    w = school.w
    at = min(school.now, issued + timedelta(days=school.rng.randint(3, 40)))
    teacher = school.instructor_of[sid]
    row = (w.next_id("certificate_event"), cert_id, "revoked", w.ts(at), teacher, REVOCATION)
    w.add("certificate_event", row)
    school.ledger(
        sid,
        "certificate_revoked",
        at,
        source="certificate",
        source_ref=f"certificate:{cert_id}",
        credential_id=credential_id,
        actor_id=teacher,
        note=REVOCATION,
    )


def _exam_outcome(
    school: School, sid: int, credential: Credential, exam: datetime, issued: datetime
) -> None:
    """Most certified students of a finished term sit the real exam; three in four pass."""
    rng, w = school.rng, school.w
    sat = max(exam, issued) + timedelta(days=rng.randint(0, 14))
    if sat >= school.now - timedelta(days=3):
        return
    passed = rng.random() < 0.76
    score = round(min(99.0, max(40.0, rng.gauss(80 if passed else 62, 5))), 1)
    recorded = sat + timedelta(days=3)
    teacher = school.instructor_of[sid]
    oid = w.next_id("exam_outcome")
    w.add(
        "exam_outcome",
        (oid, sid, credential.id, w.day(sat.date()), int(passed), score, w.ts(recorded), teacher),
    )
    result = "passed" if passed else "did not pass"
    school.ledger(
        sid,
        "exam_outcome_recorded",
        recorded,
        source="exam",
        source_ref=f"exam_outcome:{oid}",
        credential_id=credential.id,
        score=score,
        actor_id=teacher,
        note=f"{credential.code} exam on {sat.date().isoformat()}: {result}",
    )
