"""Admins register platforms; the tool's public keys are served as a JWKS."""

import pytest
from sqlalchemy import func, select

from lms import signing
from lms.auth.models import Role
from lms.extensions import db
from lms.ledger.models import AuditEvent
from lms.lti.models import LtiDeployment, LtiPlatform
from tests import factories
from tests.conftest import login, post_form

FORM = {
    "name": "District Moodle",
    "issuer": "https://moodle.example.edu",
    "client_id": "aBc123XyZ",
    "deployment_ids": "3\n4, 3",
    "auth_login_url": "https://moodle.example.edu/mod/lti/auth.php",
    "auth_token_url": "https://moodle.example.edu/mod/lti/token.php",
    "key_set_url": "https://moodle.example.edu/mod/lti/certs.php",
}


def counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (LtiPlatform, LtiDeployment, AuditEvent)
    )


@pytest.fixture
def admin(client):
    user = factories.user(Role.ADMIN)
    login(client, user.email)
    return user


def test_admin_registers_a_platform_and_sees_the_urls_to_paste(client, admin):
    page = client.get("/admin/lti/platforms").get_data(as_text=True)
    for url in ("/lti/login", "/lti/launch", "/lti/jwks.json"):
        assert f"http://localhost{url}" in page
    response = post_form(client, "/admin/lti/platforms/new", FORM)
    assert response.status_code == 302
    platform = db.session.scalar(select(LtiPlatform))
    assert (platform.issuer, platform.client_id) == ("https://moodle.example.edu", "aBc123XyZ")
    deployments = db.session.scalars(select(LtiDeployment.deployment_id)).all()
    assert sorted(deployments) == ["3", "4"]
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "lti.platform_registered")
    )
    assert event.actor_id == admin.id and event.details["deployment_ids"] == ["3", "4"]
    page = client.get("/admin/lti/platforms").get_data(as_text=True)
    assert "District Moodle" in page and "<code>4</code>" in page


def test_admin_changes_a_platform(client, admin):
    post_form(client, "/admin/lti/platforms/new", FORM)
    platform = db.session.scalar(select(LtiPlatform))
    page = client.get(f"/admin/lti/platforms/{platform.id}").get_data(as_text=True)
    assert "aBc123XyZ" in page and "3\n4" in page
    response = post_form(
        client, f"/admin/lti/platforms/{platform.id}", {**FORM, "deployment_ids": "4\n5"}
    )
    assert response.status_code == 302
    assert sorted(db.session.scalars(select(LtiDeployment.deployment_id))) == ["4", "5"]
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "lti.platform_changed" in actions


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"issuer": "moodle.example.edu"}, "The issuer must be a full https:// address."),
        ({"key_set_url": "ftp://x/certs"}, "The key set URL must be a full https:// address."),
        ({"auth_token_url": "not a url"}, "The token URL must be a full https:// address."),
        ({"deployment_ids": " , "}, "Give at least one deployment id."),
        ({"client_id": ""}, "This field is required."),
    ],
)
def test_bad_registrations_change_nothing(client, admin, changes, message):
    before = counts()
    response = post_form(client, "/admin/lti/platforms/new", {**FORM, **changes})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert counts() == before


def test_the_same_issuer_and_client_cannot_be_registered_twice(client, admin):
    post_form(client, "/admin/lti/platforms/new", FORM)
    before = counts()
    response = post_form(client, "/admin/lti/platforms/new", {**FORM, "name": "Again"})
    assert response.status_code == 409
    assert "already registered" in response.get_data(as_text=True)
    assert counts() == before


@pytest.mark.parametrize("role", [Role.STUDENT, Role.INSTRUCTOR])
def test_only_admins_manage_platforms(client, role):
    login(client, factories.user(role).email)
    assert client.get("/admin/lti/platforms").status_code == 403
    assert post_form(client, "/admin/lti/platforms/new", FORM).status_code == 403
    assert counts()[:2] == (0, 0)


def test_jwks_serves_the_public_key_only_and_keeps_it(client):
    first = client.get("/lti/jwks.json")
    assert first.status_code == 200
    (key,) = first.get_json()["keys"]
    assert {"kty", "n", "e", "kid"} <= key.keys() and key["alg"] == "RS256"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & key.keys()
    assert client.get("/lti/jwks.json").get_json()["keys"][0]["kid"] == key["kid"]
    assert key["kid"] == f"http://localhost/.well-known/jwks.json#{signing.store().current().kid}"
    assert "PRIVATE KEY" not in first.get_data(as_text=True)


def test_behind_a_proxy_the_public_base_url_gives_the_urls(app, client, admin):
    app.config["PUBLIC_BASE_URL"] = "https://tool.school.edu/"
    page = client.get("/admin/lti/platforms").get_data(as_text=True)
    for url in ("/lti/login", "/lti/launch", "/lti/jwks.json"):
        assert f"https://tool.school.edu{url}" in page
