"""Malformed values in ids, filters, page numbers and answers never make a 500: every route
and parameter gets strings that broke it before ("²", a 20-digit number, ...) and strings
hypothesis makes up, as an admin and as a student."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.auth.models import Role
from tests import factories
from tests.conftest import login

# What broke routes before: a digit int() refuses, digits of another script, a number the
# database cannot hold, signs, exponents, hex, spaces, and text.
KNOWN_BAD = ["²", "٣", "99999999999999999999", "2147483648", "-1", "1e3", "0x10", " 7", "abc", ""]
QUERY_PARAMETERS = {
    "/admin/audit": ["page", "from", "to", "actor", "action", "target_id"],
    "/admin/exports/download": [
        "dataset",
        "format",
        "cohort",
        "student",
        "credential",
        "course",
        "kind",
        "from",
        "to",
    ],
    "/admin/exports/completions.csv": ["cohort", "student", "from", "to", "kind"],
    "/api/v1/completions": ["cohort", "student", "since", "until", "limit", "cursor", "kind"],
    "/api/v1/users": ["role", "limit", "cursor", "q"],
}
weird_text = st.one_of(
    st.sampled_from(KNOWN_BAD),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=25),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
)


@pytest.fixture
def admin_client(app):
    factories.course("TERM", modules=1)
    credential = factories.credential("CPC", modules=["TERM-1"])
    student = factories.user(Role.STUDENT)
    factories.cohort(factories.user(Role.INSTRUCTOR), credential, [student])
    client = app.test_client()
    login(client, factories.user(Role.ADMIN).email)
    return client


def _paths_with_ids(app) -> list[str]:
    """Every GET route whose URL has an int argument, as a pattern to fill."""
    found = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not rule.arguments:
            continue
        found.append(re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", "{\\1}", rule.rule))
    return sorted(set(found))


@pytest.mark.parametrize("bad", KNOWN_BAD[:-1])
def test_every_id_in_every_url_survives_known_bad_values(app, admin_client, bad):
    failures = []
    for pattern in _paths_with_ids(app):
        path = re.sub(r"\{[a-z_]+\}", bad, pattern)
        status = admin_client.get(path).status_code
        if status >= 500:
            failures.append(f"{path}: {status}")
    assert failures == []


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=weird_text)
def test_every_query_parameter_survives_anything(app, admin_client, value):
    for path, names in QUERY_PARAMETERS.items():
        for name in names:
            response = admin_client.get(path, query_string={name: value})
            assert response.status_code < 500, (path, name, value, response.status_code)


def test_a_nul_character_anywhere_is_a_400_not_a_500(app, admin_client):
    """PostgreSQL can neither store nor compare a NUL: hypothesis found ?actor=%00 a 500."""
    assert admin_client.get("/admin/audit", query_string={"actor": "\x00"}).status_code == 400
    assert admin_client.get("/verify", query_string={"code": "AB\x00CD"}).status_code == 400
    assert admin_client.post("/login", data={"email": "a\x00@b.c"}).status_code == 400
    response = admin_client.post(
        "/api/v1/completions", data='{"note": "\\u0000"}', content_type="application/json"
    )
    assert response.status_code == 400
