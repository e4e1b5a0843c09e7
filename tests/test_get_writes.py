"""A GET reads. Every GET route is opened by a visitor, a student, an instructor and an admin;
none may write a row unless its view says why (``@writes_on_get``). Routes with an object in
their URL are held to the same in tests/security/test_object_access.py, which opens each of
them as five people."""

from __future__ import annotations

import pytest

from lms.auth.models import Role
from tests import factories
from tests.conftest import count_queries, get_may_write, login, writes_in

SKIP = {"static"}


def _plain_get_routes(app) -> list[str]:
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and rule.endpoint not in SKIP
    )


@pytest.mark.parametrize("role", [None, Role.STUDENT, Role.INSTRUCTOR, Role.ADMIN])
def test_no_get_route_writes_unless_it_says_why(app, role):
    factories.course("TERM", modules=2)
    credential = factories.credential("CPC", modules=["TERM-1", "TERM-2"])
    instructor = factories.user(Role.INSTRUCTOR)
    student = factories.user(Role.STUDENT)
    factories.cohort(instructor, credential, [student])
    factories.pass_module(student, "TERM-1")
    person = {Role.STUDENT: student, Role.INSTRUCTOR: instructor}.get(role)
    if role is Role.ADMIN:
        person = factories.user(Role.ADMIN)
    client = app.test_client()
    if person is not None:
        assert login(client, person.email).status_code == 302
    wrote = []
    for path in _plain_get_routes(app):
        with count_queries() as statements:
            response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)
        if writes_in(statements) and get_may_write(app, path) is None:
            wrote.append(f"{path}: {writes_in(statements)[0][:60]}")
    assert wrote == []


def test_the_check_sees_a_write(app):
    """The test above can fail: a GET view that writes without saying so is caught."""
    from lms.db import utcnow
    from lms.ledger import audit

    def sneaky():
        audit.record_event("test.sneaky", actor=None, now=utcnow())
        return "ok"

    sneaky.access_rule = "public"
    app.add_url_rule("/_sneaky", "sneaky", sneaky)
    with count_queries() as statements:
        assert app.test_client().get("/_sneaky").status_code == 200
    assert writes_in(statements) and get_may_write(app, "/_sneaky") is None
