"""An LTI launch reaches an existing account only through a link its owner confirmed.

The takeover these tests close: a signed Learner launch whose ``email`` claim was the admin's
logged in as the admin.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.db import utcnow
from lms.extensions import db
from lms.ledger.models import AuditEvent
from lms.lti.models import LinkOutcome, LtiIdentity, LtiLinkRequest
from tests import factories
from tests.conftest import login, post_form
from tests.lti.conftest import ADMINISTRATOR, INSTRUCTOR, LEARNER, launch, row_counts


def logged_in_as(client) -> str | None:
    """The name the dashboard greets, or None when the client is not logged in."""
    response = client.get("/account/password")
    if response.status_code != 200:
        return None
    return response.get_data(as_text=True)


def link_path(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert re.fullmatch(r"/lti/link/[\w-]{40,}", location), location
    return location


def test_a_learner_launch_carrying_the_admins_email_gets_nothing(client, platform):
    """End to end: the takeover as it was reported, and every staff role besides."""
    admin = factories.user(Role.ADMIN, email="admin@school.edu")
    instructor = factories.user(Role.INSTRUCTOR, email="teacher@school.edu")
    before = row_counts()
    for email in (admin.email, instructor.email):
        response = launch(client, platform, roles=[LEARNER], email=email, sub="attacker")
        assert response.status_code == 403
        assert "Accounts are never linked across roles" in response.get_data(as_text=True)
        assert client.get("/admin/users").status_code == 302  # not logged in
        assert client.get("/cohorts").status_code == 302
    assert row_counts() == before
    assert db.session.scalar(select(func.count()).select_from(LtiLinkRequest)) == 0


def test_a_launch_with_a_students_email_asks_the_owner_and_logs_nobody_in(app, client, platform):
    factories.course("TERM", modules=1)
    module = factories.module("TERM-1")
    sam = factories.user(Role.STUDENT, email="sam@school.edu", name="Sam Rivera")
    path = link_path(launch(client, platform, email="SAM@school.edu", module_code="TERM-1"))
    assert logged_in_as(client) is None
    assert db.session.scalar(select(func.count()).select_from(LtiIdentity)) == 0
    page = client.get(path).get_data(as_text=True)
    assert "District Canvas" in page and "sam@school.edu" in page and "Log in to confirm" in page

    # The launcher is not the owner: with the link alone, nothing can be confirmed.
    outsider = app.test_client()
    assert post_form(outsider, path, {"answer": "link"}).status_code == 302  # to the login page
    mallory = factories.user(Role.STUDENT, email="mallory@school.edu")
    login(outsider, mallory.email)
    response = post_form(outsider, path, {"answer": "link"})
    assert response.status_code == 403
    # The owner, logged in elsewhere (a phished click), cannot confirm either.
    phished = app.test_client()
    login(phished, sam.email)
    response = post_form(phished, path, {"answer": "link"})
    assert response.status_code == 403
    assert "the browser you launched the tool from" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(LtiIdentity)) == 0

    # The owner logs in, in the browser that launched, and confirms: the launch goes on.
    login(client, sam.email)
    assert "Link and continue" in client.get(path).get_data(as_text=True)
    response = post_form(client, path, {"answer": "link"})
    assert response.headers["Location"] == f"/modules/{module.id}"
    identity = db.session.scalar(select(LtiIdentity))
    assert (identity.user_id, identity.subject) == (sam.id, "canvas-user-1")
    assert db.session.scalar(select(LtiLinkRequest.outcome)) is LinkOutcome.CONFIRMED
    assert post_form(client, path, {"answer": "link"}).status_code == 404  # used once
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"lti.link_requested", "lti.identity_linked", "lti.launch"} <= actions

    # From now on the platform user opens Sam's account directly.
    fresh = app.test_client()
    response = launch(fresh, platform, email="sam@school.edu", module_code="TERM-1")
    assert response.headers["Location"] == f"/modules/{module.id}"
    assert "Sam Rivera" in fresh.get("/dashboard").get_data(as_text=True)


def test_the_owner_can_refuse_the_link(client, platform):
    sam = factories.user(Role.STUDENT, email="sam@school.edu")
    path = link_path(launch(client, platform, email=sam.email))
    login(client, sam.email)
    response = post_form(client, path, {"answer": "decline"})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(LtiIdentity)) == 0
    assert db.session.scalar(select(LtiLinkRequest.outcome)) is LinkOutcome.DECLINED
    assert "lti.link_declined" in db.session.scalars(select(AuditEvent.action)).all()
    # A declined request is over; the next launch asks again.
    assert client.get(path).status_code == 404


def test_a_link_request_expires(client, platform):
    sam = factories.user(Role.STUDENT, email="sam@school.edu")
    path = link_path(launch(client, platform, email=sam.email))
    db.session.execute(
        LtiLinkRequest.__table__.update().values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    login(client, sam.email)
    assert client.get(path).status_code == 404
    assert post_form(client, path, {"answer": "link"}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(LtiIdentity)) == 0


def test_an_instructor_launch_links_an_instructor_account_only_after_confirmation(client, platform):
    dana = factories.user(Role.INSTRUCTOR, email="dana@school.edu")
    path = link_path(launch(client, platform, roles=[INSTRUCTOR], email=dana.email, sub="t-1"))
    login(client, dana.email)
    assert post_form(client, path, {"answer": "link"}).status_code == 302
    assert db.session.scalar(select(LtiIdentity.user_id)) == dana.id


def test_a_staff_account_never_opens_from_a_learner_launch_even_once_linked(client, platform):
    launch(client, platform, roles=[ADMINISTRATOR], email="it@school.edu", sub="it-1")
    admin = db.session.scalar(select(User).where(User.email == "it@school.edu"))
    assert admin.role is Role.ADMIN
    before = row_counts()
    fresh = client.application.test_client()
    response = launch(fresh, platform, roles=[LEARNER], email="it@school.edu", sub="it-1")
    assert response.status_code == 403
    assert "staff accounts open only from a staff launch" in response.get_data(as_text=True)
    assert logged_in_as(fresh) is None
    assert row_counts() == before
