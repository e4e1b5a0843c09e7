"""Absolute links come from LMS_PUBLIC_BASE_URL, never from the request's Host header."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lms import create_app, links
from lms.auth.models import Role
from lms.auth.reset import PasswordResetToken
from lms.extensions import db
from tests import factories
from tests.conftest import CSRF_FIELD, csrf_token, post_form

EVIL = {"Host": "evil.example.net"}


def outbox(app):
    return app.extensions.setdefault("mail_outbox", [])


def test_a_reset_requested_with_a_forged_host_mails_a_link_to_the_school(app, client):
    """End to end: the attacker asks for the victim's reset with their own Host header."""
    # As production runs: a base URL, and no host list (any Host header reaches the view).
    app.config.update(PUBLIC_BASE_URL="https://lms.school.edu", TRUSTED_HOSTS=None)
    student = factories.user(Role.STUDENT)
    page = client.get("/password/forgot", headers=EVIL).get_data(as_text=True)
    token = CSRF_FIELD.search(page).group(1)
    response = client.post(
        "/password/forgot", data={"email": student.email, "csrf_token": token}, headers=EVIL
    )
    assert response.status_code == 302
    (message,) = outbox(app)
    assert "evil.example.net" not in message.body
    assert re.search(r"https://lms\.school\.edu/password/reset/[\w-]{40,}\n", message.body)


def test_without_a_base_url_an_untrusted_host_is_refused_before_anything_is_written(app, client):
    student = factories.user(Role.STUDENT)
    token = csrf_token(client)
    response = client.post(
        "/password/forgot", data={"email": student.email, "csrf_token": token}, headers=EVIL
    )
    assert response.status_code == 400
    assert outbox(app) == []
    assert db.session.scalar(select(func.count()).select_from(PasswordResetToken)) == 0
    # The trusted local host still works, and its links name it.
    assert post_form(client, "/password/forgot", {"email": student.email}).status_code == 302
    assert "http://localhost/password/reset/" in outbox(app)[0].body


@pytest.mark.parametrize(
    "path", ["/cohorts/1/edit", "/verify/ABCD.json", "/lti/login", "/admin/lti/platforms"]
)
def test_every_page_refuses_an_untrusted_host_in_development(client, path):
    assert client.get(path, headers=EVIL).status_code == 400


def test_production_refuses_to_start_without_a_public_base_url(monkeypatch):
    monkeypatch.delenv("LMS_PUBLIC_BASE_URL", raising=False)
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    with pytest.raises(links.MissingPublicBaseUrl, match="LMS_PUBLIC_BASE_URL is not set"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    with pytest.raises(links.MissingPublicBaseUrl, match="must be an http or https address"):
        create_app(
            {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "PUBLIC_BASE_URL": "lms"}
        )
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SECRET_KEY": "x",
            "PUBLIC_BASE_URL": "https://lms.school.edu/",
            "RATELIMIT_PER_PROCESS": True,
        }
    )
    assert app.config["PUBLIC_BASE_URL"] == "https://lms.school.edu"
    # Production links never read the Host header, so no host list is needed by default.
    assert app.config["TRUSTED_HOSTS"] is None


def test_development_trusts_local_hosts_and_the_hosts_it_is_told(monkeypatch):
    monkeypatch.setenv("LMS_TRUSTED_HOSTS", "lms.lan, 10.0.0.5")
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "ENVIRONMENT": "development"}
    )
    assert app.config["TRUSTED_HOSTS"] == ["lms.lan", "10.0.0.5"]
    assert app.test_client().get("/healthz", headers={"Host": "lms.lan"}).status_code != 400
    assert app.test_client().get("/healthz", headers=EVIL).status_code == 400


def test_links_follow_the_base_url_outside_a_request_and_under_a_path(app):
    app.config["PUBLIC_BASE_URL"] = "https://school.edu/lms"
    assert (
        links.external_url("credentials.verify", code="AB-CD")
        == "https://school.edu/lms/verify/AB-CD"
    )
    assert links.public_base_url() == "https://school.edu/lms"
    assert links.is_https()


def test_every_absolute_link_in_the_code_goes_through_links():
    """``url_for(..., _external=True)`` and ``request.url_root`` read the Host header."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "lms"
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*"))
        if path.suffix in (".py", ".html") and path.name != "links.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "_external" in line.replace("_external_url", "")
        or "url_root" in line
        or "host_url" in line
    ]
    assert offenders == []
