"""OIDC login initiation and launch: who gets in, as what, and every refused launch."""

import time

import pytest
import responses
from flask import url_for
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.auth.views import START_PAGES
from lms.extensions import db
from lms.ledger.models import AuditEvent
from lms.lti import rules
from lms.lti.models import (
    LtiContext,
    LtiContextMember,
    LtiIdentity,
    LtiLoginState,
    LtiPlatform,
    LtiResourceLink,
)
from tests import factories
from tests.lti.conftest import (
    ADMINISTRATOR,
    CLIENT_ID,
    INSTRUCTOR,
    ISSUER,
    JWKS_URL,
    LEARNER,
    LINEITEM_URL,
    TEACHING_ASSISTANT,
    begin_login,
    launch,
    row_counts,
    rsa_key,
)


def test_login_initiation_redirects_to_the_platform_with_a_state_cookie(client, platform):
    state, nonce = begin_login(client)
    stored = db.session.scalar(select(LtiLoginState))
    assert (stored.state, stored.nonce, stored.used_at) == (state, nonce, None)
    cookie = client.get_cookie(f"lti_state_{state}", path="/lti/launch")
    assert cookie is not None and cookie.value == state and cookie.http_only


def test_over_https_the_state_cookie_is_samesite_none_and_secure(app, platform):
    client = app.test_client()
    response = client.get(
        "/lti/login",
        base_url="https://localhost",
        query_string={
            "iss": ISSUER,
            "login_hint": "x",
            "target_link_uri": "https://localhost/lti/launch",
        },
    )
    header = response.headers["Set-Cookie"]
    assert "SameSite=None" in header and "Secure" in header and "HttpOnly" in header


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"iss": "https://unknown.example", "login_hint": "x", "target_link_uri": "t"},
            "is not registered with this tool",
        ),
        ({"iss": ISSUER, "target_link_uri": "t"}, "must send iss, login_hint and target_link_uri"),
    ],
)
def test_bad_login_requests_are_refused(client, platform, query, message):
    response = client.get("/lti/login", query_string=query)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(LtiLoginState)) is None


@pytest.mark.parametrize(
    ("roles", "role"),
    [
        ([LEARNER], Role.STUDENT),
        ([INSTRUCTOR], Role.INSTRUCTOR),
        ([TEACHING_ASSISTANT], Role.INSTRUCTOR),
        ([ADMINISTRATOR], Role.ADMIN),
    ],
)
def test_a_launch_creates_the_account_with_the_mapped_role(client, platform, roles, role):
    response = launch(client, platform, roles=roles, email="new.person@school.edu", name="Noor Ali")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    user = db.session.scalar(select(User).where(User.email == "new.person@school.edu"))
    assert (user.full_name, user.role, user.password_hash) == ("Noor Ali", role, None)
    identity = db.session.scalar(select(LtiIdentity))
    assert (identity.subject, identity.user_id) == ("canvas-user-1", user.id)
    with client.application.test_request_context():
        start = url_for(START_PAGES[role])
    assert client.get("/").headers["Location"] == start
    assert "Noor Ali" in client.get(start).get_data(as_text=True)
    context = db.session.scalar(select(LtiContext))
    assert (context.title, context.context_id) == ("Coding 101 (Fall)", "course-12")
    member = db.session.scalar(select(LtiContextMember))
    assert member.is_instructor is (role is not Role.STUDENT)
    assert db.session.scalar(select(LtiLoginState)).used_at is not None
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert {"user.created", "lti.identity_linked", "lti.launch"} <= set(actions)


def test_a_linked_account_is_found_by_sub_whatever_email_the_launch_carries(client, platform):
    launch(client, platform, email="sam@school.edu", name="Sam Rivera")
    sam = db.session.scalar(select(User).where(User.email == "sam@school.edu"))
    factories.user(Role.STUDENT, email="other@school.edu")
    fresh = client.application.test_client()
    launch(fresh, platform, email="other@school.edu")  # same sub, another email: the sub wins
    assert "Sam Rivera" in fresh.get("/dashboard").get_data(as_text=True)
    assert db.session.scalars(select(LtiIdentity.user_id)).all() == [sam.id]


def test_a_student_account_opened_from_an_instructor_launch_is_never_promoted(client, platform):
    launch(client, platform, sub="ta-1", email="ta@school.edu", roles=[LEARNER])
    fresh = client.application.test_client()
    launch(fresh, platform, sub="ta-1", email="ta@school.edu", roles=[INSTRUCTOR])
    ta = db.session.scalar(select(User).where(User.email == "ta@school.edu"))
    assert ta.role is Role.STUDENT
    assert fresh.get("/").headers["Location"] == "/dashboard"


def test_a_student_lands_on_the_linked_module(client, platform):
    factories.course("TERM", modules=2)
    module = factories.module("TERM-2")
    response = launch(client, platform, module_code="TERM-2")
    assert response.headers["Location"] == f"/modules/{module.id}"
    link = db.session.scalar(select(LtiResourceLink))
    assert (link.module_id, link.lineitem_url, link.title) == (
        module.id,
        LINEITEM_URL,
        "Word parts",
    )
    assert "Module 2 of TERM" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_link_to_a_missing_module_lands_on_the_dashboard_with_a_note(client, platform):
    response = launch(client, platform, module_code="GONE-1")
    assert response.headers["Location"] == "/"
    page = client.get("/dashboard").get_data(as_text=True)
    assert "The linked module no longer exists" in page


# --- refused launches: a clear page, and nothing created ---------------------------------


def refused(client, response, message, before, status=401):
    assert response.status_code == status, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    assert message in page
    assert row_counts() == before
    assert client.get("/dashboard").status_code == 302  # not logged in


def test_a_token_signed_with_another_key_is_refused(client, platform):
    before = row_counts()
    response = launch(client, platform, key=rsa_key("attacker"))
    refused(client, response, "The id_token&#39;s signature is not valid.", before)


def test_an_expired_token_is_refused(client, platform):
    before = row_counts()
    past = int(time.time()) - 3600
    response = launch(client, platform, iat=past - 300, exp=past)
    refused(client, response, "The token has expired.", before)


def test_a_replayed_launch_is_refused(client, platform):
    state, nonce = begin_login(client)
    token = platform.id_token(nonce)
    assert client.post("/lti/launch", data={"id_token": token, "state": state}).status_code == 302
    attacker = client.application.test_client()
    attacker.set_cookie(f"lti_state_{state}", state, path="/lti/launch")
    before = row_counts()
    response = attacker.post("/lti/launch", data={"id_token": token, "state": state})
    refused(attacker, response, "This launch was already used.", before)
    # The same token with a fresh login: its nonce belongs to the old login.
    fresh_state, _ = begin_login(attacker)
    before = row_counts()
    response = attacker.post("/lti/launch", data={"id_token": token, "state": fresh_state})
    refused(attacker, response, "nonce does not match this login", before)


def test_an_unknown_deployment_is_refused(client, platform):
    before = row_counts()
    response = launch(
        client, platform, **{"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "9:nope"}
    )
    refused(client, response, "The deployment is not registered for this platform.", before)


def test_an_unknown_issuer_is_refused(client, platform):
    before = row_counts()
    response = launch(client, platform, iss="https://evil.example.com")
    refused(client, response, "The token comes from an unknown platform", before)


def test_a_launch_without_the_state_cookie_is_refused(app, client, platform):
    state, nonce = begin_login(client)
    token = platform.id_token(nonce)
    before = row_counts()
    other_browser = app.test_client()
    response = other_browser.post("/lti/launch", data={"id_token": token, "state": state})
    refused(other_browser, response, "the state cookie is missing", before)
    assert db.session.scalar(select(LtiLoginState)).used_at is None


def test_a_token_for_another_tool_or_without_email_is_refused(client, platform):
    before = row_counts()
    refused(client, launch(client, platform, aud="another-tool"), "not meant for this tool", before)
    refused(client, launch(client, platform, email=None), "did not share your email", before, 400)
    guest = launch(client, platform, roles=["urn:x:Guest"])
    refused(client, guest, "did not say whether", before, 400)


def test_untrusted_audiences_parties_and_targets_are_refused(client, platform):
    """LTI's security framework: every audience must be trusted, azp must be the tool, and
    the launch must open the link its login named (401: the token does not authenticate)."""
    before = row_counts()
    for claims, message in [
        ({"aud": [CLIENT_ID, "https://evil.example"]}, "audiences this tool does not trust"),
        ({"azp": "another-tool"}, "authorised party (azp) is not this tool"),
        ({rules.CLAIM_TARGET_LINK_URI: None}, "does not say which link it opens"),
        (
            {rules.CLAIM_TARGET_LINK_URI: "http://localhost/lti/launch?elsewhere"},
            "another link than the one its login named",
        ),
    ]:
        refused(client, launch(client, platform, **claims), message, before)


def test_a_login_for_a_target_that_is_not_this_tool_is_refused(client, platform):
    before = row_counts()
    response = client.get(
        "/lti/login",
        query_string={
            "iss": ISSUER,
            "login_hint": "x",
            "target_link_uri": "https://evil.example/lti/launch",
        },
    )
    assert response.status_code == 400
    assert "not this tool" in response.get_data(as_text=True)
    assert row_counts() == before


def test_a_platform_whose_key_set_cannot_be_fetched_refuses_the_launch(client, platform):
    platform.mock.replace(responses.GET, JWKS_URL, status=503)
    from lms.lti import platform_api

    platform_api.clear_jwks_cache()
    before = row_counts()
    refused(client, launch(client, platform), "key set could not be fetched", before, 400)


def test_a_launch_with_a_garbled_token_or_no_state_is_refused(client, platform):
    state, _ = begin_login(client)
    before = row_counts()
    response = client.post("/lti/launch", data={"id_token": "not.a.jwt", "state": state})
    refused(client, response, "not a readable JSON Web Token", before, 400)
    response = client.post("/lti/launch", data={"id_token": "x"})
    refused(client, response, "did not include an id_token and a state", before, 400)


def test_a_disabled_account_cannot_launch(client, platform):
    user = factories.user(Role.STUDENT, email="learner@school.edu")
    user.active = False
    db.session.commit()
    before = row_counts()
    refused(client, launch(client, platform), "Your account here is disabled", before, 403)


def test_logins_expired_for_a_day_are_cleared_by_the_next_login(client, platform):
    from datetime import timedelta

    from lms.db import utcnow

    old = utcnow() - timedelta(days=2)
    db.session.add(
        LtiLoginState(
            state="old",
            nonce="old",
            platform_id=db.session.scalar(select(LtiPlatform.id)),
            created_at=old,
            expires_at=old,
        )
    )
    db.session.commit()
    state, _ = begin_login(client)
    assert db.session.scalars(select(LtiLoginState.state)).all() == [state]


def test_behind_a_proxy_the_redirect_uri_and_cookie_follow_the_public_base_url(app, platform):
    app.config["PUBLIC_BASE_URL"] = "https://tool.school.edu"
    response = app.test_client().get(
        "/lti/login",
        query_string={
            "iss": ISSUER,
            "login_hint": "x",
            "target_link_uri": "https://tool.school.edu/lti/launch",
        },
    )
    assert "redirect_uri=https%3A%2F%2Ftool.school.edu%2Flti%2Flaunch" in response.location
    assert "SameSite=None" in response.headers["Set-Cookie"]
    assert "Secure" in response.headers["Set-Cookie"]


def test_two_simultaneous_posts_of_one_launch_log_in_only_once(client, platform):
    from lms.db import utcnow
    from lms.errors import InvalidInput
    from lms.lti.service import launch as launching

    state, nonce = begin_login(client)
    form = {"id_token": platform.id_token(nonce), "state": state}
    cookies = {f"lti_state_{state}": state}
    now = utcnow()
    first = launching.verify_launch(form, cookies, now)
    second = launching.verify_launch(form, cookies, now)  # both checked before either finished
    launching.complete_launch(*first, now)
    with pytest.raises(InvalidInput, match="already used"):
        launching.complete_launch(*second, now)


def test_a_token_not_signed_with_rs256_is_refused(client, platform):
    import jwt as pyjwt

    state, nonce = begin_login(client)
    claims = pyjwt.decode(platform.id_token(nonce), options={"verify_signature": False})
    forged = pyjwt.encode(claims, "a-shared-secret-of-enough-length!", algorithm="HS256")
    before = row_counts()
    response = client.post("/lti/launch", data={"id_token": forged, "state": state})
    refused(client, response, "must be signed with RS256", before)
