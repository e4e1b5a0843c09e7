"""Every response carries the security headers; too large a request gets a clear 413."""

import pytest

from lms import create_app
from lms.auth.models import Role
from tests import factories
from tests.conftest import login


@pytest.mark.parametrize("path", ["/login", "/healthz", "/verify/NOPE", "/static/css/app.css"])
def test_security_headers_on_every_kind_of_response(client, path):
    response = client.get(path)
    response.close()
    headers = response.headers
    csp = {
        part.split()[0]: part.split()[1:] for part in headers["Content-Security-Policy"].split("; ")
    }
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no nonce: no inline script
    assert csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_no_hsts_in_development():
    app = create_app({"ENVIRONMENT": "development", "SECRET_KEY": "x", "TESTING": True})
    headers = app.test_client().get("/login").headers
    assert "Strict-Transport-Security" not in headers
    assert "Content-Security-Policy" in headers


def test_logged_in_pages_are_not_cached(client):
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    assert client.get("/dashboard").headers["Cache-Control"] == "no-store"


def test_too_large_request_gets_a_clear_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    response = client.post(
        "/login",
        data=b"note=" + b"x" * (2 * 1024 * 1024),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "too large" in page and "1 MB" in page
    assert "Traceback" not in page


def test_max_content_length_is_set(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 16 * 1024 * 1024
