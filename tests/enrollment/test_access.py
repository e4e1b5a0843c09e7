"""An instructor sees only the cohorts they teach: every cohort and student URL of another
cohort answers 404, for every route and method, and changes nothing."""

from __future__ import annotations

import re

from lms.auth.models import Role
from lms.credentials import service as credentials
from lms.credentials.rules import EvidenceKind
from lms.enrollment.models import Cohort, Enrollment, EnrollmentEvent, PlannedDueDate
from lms.extensions import db
from lms.ledger.models import AuditEvent, LedgerEntry
from tests import factories
from tests.conftest import login, post_form
from tests.enrollment.conftest import table_counts

DATA = {
    "email": "someone@example.org",
    "full_name": "Some One",
    "name": "Taken over",
    "start_date": "2026-09-01",
    "action": "on",
    "key": "TERM-1",
    "decision": "met",
    "reason": "because",
    "module_code": "TERM-1",
    "due_on": "2026-10-01",
    "target": "1",
    "token": "x",
}


def cohort_routes(app) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/cohorts/<int:cohort_id>"):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                routes.append((method, rule.rule))
    return routes


def test_every_cohort_and_student_route_of_another_cohort_answers_404(app, client, school):
    credential, instructor = school
    student = factories.user(Role.STUDENT)
    theirs = factories.cohort(instructor, credential, [student])
    evidence = credentials.submit_evidence(
        student, EvidenceKind.HS_DIPLOMA_OR_GED, "GED 2019", factories.NOW
    )
    db.session.commit()
    outsider = factories.user(Role.INSTRUCTOR)
    mine = factories.cohort(outsider, credential, name="Mine")
    routes = cohort_routes(app)
    assert len(routes) >= 17, routes
    login(client, outsider.email)
    models = (Cohort, Enrollment, EnrollmentEvent, PlannedDueDate, LedgerEntry)
    before = table_counts(*models)
    audit_before = table_counts(AuditEvent)
    for method, rule in routes:
        for cohort_id in {theirs.id} if "student_id" not in rule else {theirs.id, mine.id}:
            url = (
                rule.replace("<int:cohort_id>", str(cohort_id))
                .replace("<int:student_id>", str(student.id))
                .replace("<int:user_id>", str(instructor.id))
                .replace("<int:evidence_id>", str(evidence.id))
            )
            url = re.sub(r"<int:\w+>", "1", url)  # ids of other domains' objects
            if method == "GET":
                response = client.get(url)
            else:
                response = post_form(client, url, dict(DATA, target=str(mine.id)))
            assert response.status_code == 404, (method, url, response.status_code)
    assert table_counts(*models) == before
    assert table_counts(AuditEvent) == audit_before


def test_students_get_403_on_every_cohort_route(app, client, school):
    credential, instructor = school
    student = factories.user(Role.STUDENT)
    cohort = factories.cohort(instructor, credential, [student])
    login(client, student.email)
    for method, rule in cohort_routes(app):
        url = (
            rule.replace("<int:cohort_id>", str(cohort.id))
            .replace("<int:student_id>", str(student.id))
            .replace("<int:user_id>", str(instructor.id))
            .replace("<int:evidence_id>", "1")
        )
        url = re.sub(r"<int:\w+>", "1", url)
        response = client.get(url) if method == "GET" else post_form(client, url, DATA)
        assert response.status_code == 403, (method, url)
