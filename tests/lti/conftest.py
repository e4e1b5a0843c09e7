"""An in-process mock LTI platform: it signs id_tokens with its own key, and its key set,
token, score and roster endpoints are answered by ``responses`` (no network)."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.enrollment.models import Enrollment
from lms.extensions import db
from lms.ledger.models import AuditEvent
from lms.lti import platform_api, rules
from lms.lti.models import (
    LtiContext,
    LtiContextMember,
    LtiIdentity,
    LtiResourceLink,
    LtiScoreOutbox,
)
from lms.lti.service import platforms as lti
from tests import factories

ISSUER = "https://canvas.example.edu"
CLIENT_ID = "10000000000042"
DEPLOYMENT_ID = "7:a1b2c3"
AUTH_URL = "https://canvas.example.edu/api/lti/authorize_redirect"
TOKEN_URL = "https://canvas.example.edu/login/oauth2/token"
JWKS_URL = "https://canvas.example.edu/api/lti/security/jwks"
LINEITEM_URL = "https://canvas.example.edu/api/lti/courses/12/line_items/34"
MEMBERSHIPS_URL = "https://canvas.example.edu/api/lti/courses/12/names_and_roles"
RETURN_URL = "https://canvas.example.edu/courses/12/deep_linking_response"

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
TEACHING_ASSISTANT = (
    "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
)
ADMINISTRATOR = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"


@cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """An RSA key, made once per test session for each name."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class MockPlatform:
    """A Canvas-like platform: registration values, signing key and its HTTP endpoints."""

    mock: responses.RequestsMock
    kid: str = "platform-key-1"
    tokens_issued: list[dict[str, Any]] = field(default_factory=list)

    def key_set(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(rsa_key("platform").public_key()))
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}

    def register(self, admin: User | None = None):
        """Register this platform through the service, as an admin would."""
        platform = lti.save_platform(
            admin or factories.user(Role.ADMIN),
            lti.PlatformData(
                name="District Canvas",
                issuer=ISSUER,
                client_id=CLIENT_ID,
                deployment_ids=DEPLOYMENT_ID,
                auth_login_url=AUTH_URL,
                auth_token_url=TOKEN_URL,
                key_set_url=JWKS_URL,
            ),
            factories.NOW,
        )
        db.session.commit()
        return platform

    def id_token(
        self,
        nonce: str,
        *,
        sub: str = "canvas-user-1",
        roles: list[str] = (LEARNER,),
        email: str | None = "learner@school.edu",
        name: str = "Lee Learner",
        message_type: str = rules.RESOURCE_LINK_REQUEST,
        module_code: str | None = None,
        lineitem: str | None = LINEITEM_URL,
        key: rsa.RSAPrivateKey | None = None,
        **overrides: Any,
    ) -> str:
        """A signed id_token as the platform would post it."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "sub": sub,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": name,
            rules.CLAIM_DEPLOYMENT_ID: DEPLOYMENT_ID,
            rules.CLAIM_VERSION: "1.3.0",
            rules.CLAIM_MESSAGE_TYPE: message_type,
            rules.CLAIM_ROLES: list(roles),
            rules.CLAIM_TARGET_LINK_URI: "http://localhost/lti/launch",
            rules.CLAIM_CONTEXT: {"id": "course-12", "title": "Coding 101 (Fall)"},
            rules.CLAIM_NRPS: {
                "context_memberships_url": MEMBERSHIPS_URL,
                "service_versions": ["2.0"],
            },
        }
        if email:
            claims["email"] = email
        if message_type == rules.RESOURCE_LINK_REQUEST:
            claims[rules.CLAIM_RESOURCE_LINK] = {"id": "link-77", "title": "Word parts"}
            if module_code:
                claims[rules.CLAIM_CUSTOM] = {"module_code": module_code}
            if lineitem:
                claims[rules.CLAIM_AGS] = {
                    "scope": [rules.SCOPE_SCORE, rules.SCOPE_LINEITEM],
                    "lineitem": lineitem,
                }
        else:
            claims[rules.CLAIM_DL_SETTINGS] = {
                "deep_link_return_url": RETURN_URL,
                "accept_types": ["ltiResourceLink"],
                "accept_multiple": True,
                "data": "opaque-platform-data",
            }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(
            claims, key or rsa_key("platform"), algorithm="RS256", headers={"kid": self.kid}
        )

    def serve_token(self, status: int = 200) -> None:
        """Answer the token endpoint (and remember each assertion the tool sent)."""

        def reply(request):
            form = {k: v[0] for k, v in parse_qs(request.body).items()}
            self.tokens_issued.append(form)
            if status != 200:
                return (status, {}, json.dumps({"error": "server_error"}))
            return (200, {}, json.dumps({"access_token": "platform-token", "expires_in": 3600}))

        self.mock.add_callback(responses.POST, TOKEN_URL, callback=reply)


@pytest.fixture
def platform_http():
    """Every HTTP call to a platform is answered here; an unexpected one fails the test."""
    platform_api.clear_jwks_cache()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
    platform_api.clear_jwks_cache()


@pytest.fixture
def platform(app, platform_http) -> MockPlatform:
    """The mock platform, registered, with its key set served."""
    mock = MockPlatform(platform_http)
    platform_http.add(responses.GET, JWKS_URL, json=mock.key_set())
    mock.register()
    return mock


def begin_login(client) -> tuple[str, str]:
    """Step 1 of a launch: the platform sends the browser to /lti/login; returns state, nonce."""
    response = client.get(
        "/lti/login",
        query_string={
            "iss": ISSUER,
            "login_hint": "opaque-hint",
            "target_link_uri": "http://localhost/lti/launch",
            "client_id": CLIENT_ID,
            "lti_message_hint": "msg-hint",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == AUTH_URL
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["redirect_uri"] == "http://localhost/lti/launch"
    assert query["client_id"] == CLIENT_ID and query["response_mode"] == "form_post"
    assert query["lti_message_hint"] == "msg-hint" and query["login_hint"] == "opaque-hint"
    return query["state"], query["nonce"]


def launch(client, platform: MockPlatform, **claims):
    """A whole launch: login initiation, then the signed POST back to the tool."""
    state, nonce = begin_login(client)
    token = platform.id_token(nonce, **claims)
    return client.post("/lti/launch", data={"id_token": token, "state": state})


def row_counts() -> dict[str, int]:
    """How many rows the launch and enrolment tables hold."""
    tables = {
        "user": User,
        "identity": LtiIdentity,
        "context": LtiContext,
        "member": LtiContextMember,
        "link": LtiResourceLink,
        "outbox": LtiScoreOutbox,
        "enrollment": Enrollment,
        "audit": AuditEvent,
    }
    return {
        name: db.session.scalar(select(func.count()).select_from(model))
        for name, model in tables.items()
    }


def new_id() -> str:
    return uuid.uuid4().hex
