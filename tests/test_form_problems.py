"""A refused form shows every problem beside the field it belongs to (lms.forms.show_problems),
and the database is as it was."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from lms.auth.models import Role
from lms.errors import InvalidInput, Problem
from lms.extensions import db
from lms.lti.models import LtiPlatform
from tests import factories
from tests.conftest import login, post_form


def field_errors(page: str) -> dict[str, str]:
    """Each field in error (by its input's name) and the message shown beside it."""
    found = {}
    for block in re.findall(r'<div class="field has-error">(.*?)</div>', page, re.S):
        name = re.search(r'name="([^"]+)"', block)
        message = re.search(r'<p class="error"[^>]*>(.*?)</p>', block, re.S)
        if name and message:
            found[name.group(1)] = message.group(1).strip()
    return found


def test_a_password_change_shows_each_problem_beside_its_field(client):
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    before = student.password_hash
    response = post_form(
        client,
        "/account/password",
        {"current": "not my password", "new": "short", "repeat": "other"},
    )
    assert response.status_code == 400
    errors = field_errors(response.get_data(as_text=True))
    assert errors["current"] == "The current password is not right."
    assert errors["repeat"] == "The two new passwords differ."
    assert "at least 12" in errors["new"]
    db.session.refresh(student)
    assert student.password_hash == before


def test_a_platform_registration_shows_each_problem_beside_its_field(client):
    login(client, factories.user(Role.ADMIN).email)
    response = post_form(
        client,
        "/admin/lti/platforms/new",
        {
            "name": "Canvas",
            "issuer": "not a url",
            "client_id": "42",
            "deployment_ids": "1",
            "auth_login_url": "https://canvas.example.edu/login",
            "auth_token_url": "ftp://canvas.example.edu/token",
            "key_set_url": "https://canvas.example.edu/jwks",
        },
    )
    assert response.status_code == 400
    errors = field_errors(response.get_data(as_text=True))
    assert set(errors) == {"issuer", "auth_token_url"}
    assert errors["issuer"].startswith("The issuer")
    assert errors["auth_token_url"].startswith("The token URL")
    assert db.session.scalar(select(func.count()).select_from(LtiPlatform)) == 0


def test_problems_without_a_field_go_to_the_form():
    error = InvalidInput(problems=[Problem("Whole form.", None), Problem("Name.", "name")])
    assert error.message == "Whole form. Name." and error.field is None
    assert InvalidInput("One.", field="x").problems == (Problem("One.", "x"),)
