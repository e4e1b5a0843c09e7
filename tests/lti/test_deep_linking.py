"""Deep linking: an instructor picks modules and the tool answers the platform, signed."""

import re
from html import unescape

import jwt
from sqlalchemy import select

from lms.auth.models import Role
from lms.extensions import db
from lms.ledger.models import AuditEvent
from lms.lti import rules
from tests import factories
from tests.conftest import login, post_form
from tests.lti.conftest import (
    CLIENT_ID,
    DEPLOYMENT_ID,
    INSTRUCTOR,
    ISSUER,
    LEARNER,
    RETURN_URL,
    launch,
    row_counts,
)

FORM_FIELD = re.compile(r'<form method="post" action="([^"]+)" id="lti-auto-submit">')
JWT_FIELD = re.compile(r'<input type="hidden" name="JWT" value="([^"]+)">')


def deep_link_launch(client, platform, roles=(INSTRUCTOR,)):
    return launch(
        client,
        platform,
        roles=list(roles),
        email="dana@school.edu",
        name="Dana Whitfield",
        message_type=rules.DEEP_LINKING_REQUEST,
    )


def tool_key_set(client):
    return jwt.PyJWKSet.from_dict(client.get("/lti/jwks.json").get_json())


def test_instructor_places_modules_and_the_platform_gets_a_signed_answer(client, platform):
    factories.course("TERM", modules=2)
    factories.course("EXAM", modules=1)
    response = deep_link_launch(client, platform)
    assert response.headers["Location"] == "/lti/deep-link"
    page = client.get("/lti/deep-link").get_data(as_text=True)
    assert "TERM-1: Module 1 of TERM" in page and "EXAM-1: Module 1 of EXAM" in page
    chosen = [factories.module("TERM-2").id, factories.module("EXAM-1").id]
    response = post_form(client, "/lti/deep-link", {"modules": chosen})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert FORM_FIELD.search(page).group(1) == RETURN_URL
    assert '<script src="/static/js/lti-autosubmit.js" defer></script>' in page
    assert "Return to the LMS" in page  # works without JavaScript too
    token = unescape(JWT_FIELD.search(page).group(1))

    header = jwt.get_unverified_header(token)
    key = tool_key_set(client)[header["kid"]]
    claims = jwt.decode(token, key=key, algorithms=["RS256"], audience=ISSUER)
    assert claims["iss"] == CLIENT_ID
    assert claims[rules.CLAIM_MESSAGE_TYPE] == "LtiDeepLinkingResponse"
    assert claims[rules.CLAIM_VERSION] == "1.3.0"
    assert claims[rules.CLAIM_DEPLOYMENT_ID] == DEPLOYMENT_ID
    assert claims[rules.CLAIM_DL_DATA] == "opaque-platform-data"
    items = claims[rules.CLAIM_DL_CONTENT_ITEMS]
    assert [(i["type"], i["title"], i["custom"]["module_code"]) for i in items] == [
        ("ltiResourceLink", "Module 2 of TERM", "TERM-2"),
        ("ltiResourceLink", "Module 1 of EXAM", "EXAM-1"),
    ]
    assert all(i["url"] == "http://localhost/lti/launch" for i in items)
    assert items[0]["lineItem"] == {
        "scoreMaximum": 100,
        "label": "Module 2 of TERM",
        "resourceId": "TERM-2",
    }
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "lti.deep_link_returned")
    )
    assert event.details == {"modules": ["TERM-2", "EXAM-1"]}
    # The request is answered once.
    assert client.get("/lti/deep-link").status_code == 400


def test_choosing_nothing_is_refused_and_the_request_stays_open(client, platform):
    factories.course("TERM", modules=1)
    deep_link_launch(client, platform)
    before = row_counts()
    response = post_form(client, "/lti/deep-link", {})
    assert response.status_code == 400
    assert "Choose at least one module" in response.get_data(as_text=True)
    response = post_form(client, "/lti/deep-link", {"modules": [987654]})
    assert response.status_code == 400
    assert "do not exist" in response.get_data(as_text=True)
    assert row_counts() == before
    assert client.get("/lti/deep-link").status_code == 200


def test_a_learner_cannot_make_a_deep_linking_launch(client, platform):
    before = row_counts()
    response = deep_link_launch(client, platform, roles=(LEARNER,))
    assert response.status_code == 400
    assert "Only instructors can choose content" in response.get_data(as_text=True)
    assert row_counts() == before


def test_the_deep_link_page_needs_a_request_from_the_lms(client):
    instructor = factories.user(Role.INSTRUCTOR)
    login(client, instructor.email)
    response = client.get("/lti/deep-link")
    assert response.status_code == 400
    assert "There is no deep-linking request to answer" in response.get_data(as_text=True)
    student = client.application.test_client()
    login(student, factories.user(Role.STUDENT).email)
    assert student.get("/lti/deep-link").status_code == 403
