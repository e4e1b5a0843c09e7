"""The admin's API token page: a secret shown once, stored hashed, revocable."""

import re

from sqlalchemy import func, select

from lms.auth import one_time
from lms.auth.models import Role
from lms.auth.tokens import ApiToken
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import login, post_form

SECRET = re.compile(r'<code class="token-secret">(lms_pat_[^<]+)</code>')


def test_admin_creates_uses_and_revokes_a_token(app, client):
    admin = factories.user(Role.ADMIN)
    login(client, admin.email)
    response = post_form(
        client, "/admin/tokens", {"name": "SIS nightly", "scope": "read", "days": "30"}
    )
    page = response.get_data(as_text=True)
    secret = SECRET.search(page).group(1)
    token = db.session.scalar(select(ApiToken))
    assert token.token_hash == one_time.hash_secret(secret) and secret not in token.token_hash
    assert token.display_prefix == secret[:12]
    # Shown once: the list page never shows it again.
    assert secret not in client.get("/admin/tokens").get_data(as_text=True)

    api = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/v1/courses", headers=headers).status_code == 200
    assert "never" not in client.get("/admin/tokens").get_data(as_text=True)

    response = post_form(client, f"/admin/tokens/{token.id}/revoke", follow_redirects=True)
    assert "is revoked" in response.get_data(as_text=True)
    assert api.get("/api/v1/courses", headers=headers).status_code == 401
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.target_type == "api_token")
    ).all()
    assert actions == ["api_token.created", "api_token.revoked"]


def test_bad_token_forms_create_nothing(client):
    admin = factories.user(Role.ADMIN)
    login(client, admin.email)
    for data in (
        {"name": "", "scope": "read", "days": "30"},
        {"name": "x", "scope": "admin", "days": "30"},
        {"name": "x", "scope": "read", "days": "0"},
        {"name": "x", "scope": "read", "days": "9999"},
    ):
        assert post_form(client, "/admin/tokens", data).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_nobody_revokes_another_admins_token(app, client):
    owner = factories.user(Role.ADMIN)
    login(client, owner.email)
    post_form(client, "/admin/tokens", {"name": "mine", "scope": "write", "days": "5"})
    token = db.session.scalar(select(ApiToken))
    other = app.test_client()
    login(other, factories.user(Role.ADMIN).email)
    assert post_form(other, f"/admin/tokens/{token.id}/revoke").status_code == 404
    db.session.refresh(token)
    assert token.revoked_at is None


def test_only_admins_manage_tokens(app):
    for role in (Role.INSTRUCTOR, Role.STUDENT):
        client = app.test_client()
        login(client, factories.user(role).email)
        assert client.get("/admin/tokens").status_code == 403
