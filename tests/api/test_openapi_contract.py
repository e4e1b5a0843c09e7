"""What the API promises in its OpenAPI document and its HTTP answers: typed filters, every
refusal declared, and 405s that say which methods a path takes."""

from __future__ import annotations

import pytest

from lms.auth.models import Role
from tests import factories
from tests.conftest import login


def test_numeric_and_date_filters_are_typed(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/completions", "/api/v1/exports/{dataset}"):
        parameters = {p["name"]: p["schema"] for p in spec["paths"][path]["get"]["parameters"]}
        assert parameters["cohort"]["type"] == "integer"
        assert parameters["limit" if "completions" in path else "cohort"]["type"] == "integer"
        assert (parameters["from"]["type"], parameters["from"]["format"]) == ("string", "date")
        assert parameters["to"]["format"] == "date"


def test_every_operation_declares_400_401_and_403(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    missing = [
        f"{method.upper()} {path} {status}"
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post")
        for status in ("400", "401", "403")
        if status not in operation["responses"]
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("delete", "/api/v1/users", {"GET", "HEAD", "OPTIONS"}),
        ("put", "/api/v1/certificates/ABC/revoke", {"POST", "OPTIONS"}),
        ("put", "/login", {"GET", "HEAD", "POST", "OPTIONS"}),
        ("delete", "/cohorts", {"GET", "HEAD", "OPTIONS"}),
    ],
)
def test_a_405_says_which_methods_the_path_takes(client, method, path, allowed):
    login(client, factories.user(Role.ADMIN).email)
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == allowed
