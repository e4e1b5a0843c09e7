"""Every route with an object in its URL, tried by five people: only the right ones get in.

For each object route the table says which of these may use it:

- ``owner``: the student the object belongs to (enrolled in cohort A);
- ``other_student``: another student (enrolled in cohort B);
- ``other_instructor``: the instructor of cohort B;
- ``cohort_instructor``: the instructor of cohort A;
- ``admin``.

Allowed people get 200 (a page) or 302 (a form that worked); everyone else 403 or 404, and
every denial is logged. A route with an argument in its URL that is not in the table fails
the test: a helper adding such a route adds its row here (``CASES``), with a builder that
makes the object for the scenario.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from lms.auth import reset
from lms.auth.models import Role, User
from lms.courses import service as courses
from lms.credentials import service as credentials
from lms.credentials.models import Certificate
from lms.credentials.rules import EvidenceKind
from lms.db import utcnow
from lms.extensions import db
from tests import factories
from tests.conftest import login, post_form

ACTORS = ("owner", "other_student", "other_instructor", "cohort_instructor", "admin")
EVERYONE = frozenset(ACTORS)
ANONYMOUS_OK = "anonymous"


@dataclass
class Scenario:
    """Two cohorts of one credential, their instructors and students, and the owner's things."""

    people: dict[str, User]
    cohort_a: object
    cohort_b: object
    module_id: int
    attempt_id: int


@dataclass(frozen=True)
class Case:
    """One way to call a route: method, a URL (and form) built from the scenario, who may."""

    method: str
    build: Callable[[Scenario], tuple[str, dict]]
    allowed: frozenset[str]


def _new_evidence(s: Scenario):
    evidence = credentials.submit_evidence(
        s.people["owner"], EvidenceKind.HS_DIPLOMA_OR_GED, "Lincoln High, 2019", factories.NOW
    )
    db.session.commit()
    return evidence


def _reset_link(s: Scenario) -> tuple[str, dict]:
    token = reset.request_reset(s.people["owner"].email, utcnow(), lambda t: t)
    db.session.commit()
    return f"/password/reset/{token}", {}


def _certificate_code(s: Scenario) -> str:
    """The owner's certificate (issued when they pass the second module)."""
    code = db.session.scalar(
        select(Certificate.code).where(Certificate.student_id == s.people["owner"].id)
    )
    if code is None:
        factories.pass_module(s.people["owner"], "TERM-2")
        code = db.session.scalar(
            select(Certificate.code).where(Certificate.student_id == s.people["owner"].id)
        )
    assert code is not None
    return code


def _new_student_email() -> str:
    return factories.user(Role.STUDENT).email


CASES: dict[str, list[Case]] = {
    "courses.module_page": [Case("GET", lambda s: (f"/modules/{s.module_id}", {}), EVERYONE)],
    "courses.submit_quiz": [
        Case(
            "POST",
            lambda s: (f"/modules/{s.module_id}/quiz", factories.answer_form("TERM-1")),
            frozenset({"owner", "other_student"}),
        )
    ],
    "courses.attempt_result": [
        Case("GET", lambda s: (f"/attempts/{s.attempt_id}", {}), frozenset({"owner", "admin"}))
    ],
    "enrollment.cohort_page": [
        Case(
            "GET",
            lambda s: (f"/cohorts/{s.cohort_a.id}", {}),
            frozenset({"cohort_instructor", "admin"}),
        )
    ],
    "enrollment.enroll": [
        Case(
            "POST",
            lambda s: (f"/cohorts/{s.cohort_a.id}/enrollments", {"email": _new_student_email()}),
            frozenset({"cohort_instructor", "admin"}),
        )
    ],
    "enrollment.decide_evidence": [
        Case(
            "POST",
            lambda s: (
                f"/cohorts/{s.cohort_a.id}/evidence/{_new_evidence(s).id}",
                {"verify": "Verify"},
            ),
            frozenset({"cohort_instructor", "admin"}),
        ),
        # The other instructor names their own cohort but the owner's evidence.
        Case(
            "POST",
            lambda s: (
                f"/cohorts/{s.cohort_b.id}/evidence/{_new_evidence(s).id}",
                {"verify": "Verify"},
            ),
            frozenset({"admin"}),
        ),
    ],
    "credentials.verify": [
        Case("GET", lambda s: (f"/verify/{_certificate_code(s)}", {}), EVERYONE),
        Case("GET", lambda s: ("/verify/NOPE", {}), frozenset()),
    ],
    "users.change_role": [
        Case(
            "POST",
            lambda s: (f"/admin/users/{s.people['owner'].id}/role", {"role": "student"}),
            frozenset({"admin"}),
        )
    ],
    "users.set_active": [
        Case(
            "POST",
            lambda s: (f"/admin/users/{factories.user(Role.STUDENT).id}/active", {"active": "0"}),
            frozenset({"admin"}),
        )
    ],
    "users.remove_totp": [
        Case(
            "POST",
            lambda s: (f"/admin/users/{s.people['owner'].id}/totp/remove", {}),
            frozenset({"admin"}),
        )
    ],
    "account.reset_password": [Case("GET", _reset_link, EVERYONE)],
}

# Public routes: anyone may open them without logging in.
PUBLIC = {"credentials.verify", "account.reset_password"}


def object_endpoints(app) -> set[str]:
    """Endpoints whose URL names an object (any variable part), static files aside."""
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.arguments and rule.endpoint != "static"
    }


def test_every_object_route_is_in_the_table(app):
    missing = object_endpoints(app) - set(CASES)
    assert not missing, f"add these object routes to CASES in {__file__}: {sorted(missing)}"
    stale = set(CASES) - object_endpoints(app)
    assert not stale, f"routes in CASES that no longer exist: {sorted(stale)}"


@pytest.fixture
def scenario(app) -> Scenario:
    factories.course("TERM", modules=2)
    credential = factories.credential("CPC", modules=["TERM-1", "TERM-2"])
    people = {
        "owner": factories.user(Role.STUDENT),
        "other_student": factories.user(Role.STUDENT),
        "other_instructor": factories.user(Role.INSTRUCTOR),
        "cohort_instructor": factories.user(Role.INSTRUCTOR),
        "admin": factories.user(Role.ADMIN),
    }
    cohort_a = factories.cohort(people["cohort_instructor"], credential, [people["owner"]])
    cohort_b = factories.cohort(people["other_instructor"], credential, [people["other_student"]])
    attempt = factories.pass_module(people["owner"], "TERM-1")
    module = courses.modules_by_code(["TERM-1"])["TERM-1"]
    return Scenario(people, cohort_a, cohort_b, module.id, attempt.id)


def _call(client, case: Case, s: Scenario):
    url, data = case.build(s)
    if case.method == "GET":
        return url, client.get(url)
    return url, post_form(client, url, data)


@pytest.mark.parametrize("endpoint", sorted(CASES))
def test_object_route_lets_in_only_the_right_people(app, scenario, endpoint, caplog):
    clients = {}
    for actor, person in scenario.people.items():
        clients[actor] = app.test_client()
        assert login(clients[actor], person.email).status_code == 302
    for case in CASES[endpoint]:
        for actor in ACTORS:
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="lms"):
                url, response = _call(clients[actor], case, scenario)
            status = response.status_code
            if actor in case.allowed:
                assert status in (200, 302), (endpoint, actor, url, status)
                if status == 302:
                    assert "/login" not in response.headers["Location"], (endpoint, actor)
            else:
                assert status in (403, 404), (endpoint, actor, url, status)
                denials = [
                    r
                    for r in caplog.records
                    if getattr(r, "event", None) == "access_denied" and r.path == url
                ]
                assert denials, f"denial of {url} to {actor} was not logged"
                assert denials[0].user_id == scenario.people[actor].id
                assert denials[0].status == status


@pytest.mark.parametrize("endpoint", sorted(set(CASES) - PUBLIC))
def test_anonymous_visitors_are_sent_to_log_in(app, scenario, endpoint):
    client = app.test_client()
    for case in CASES[endpoint]:
        url, response = _call(client, case, scenario)
        assert response.status_code == 302, (endpoint, url, response.status_code)
        assert response.headers["Location"].startswith("/login?next="), (endpoint, url)
