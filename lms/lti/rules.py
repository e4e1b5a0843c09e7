"""Pure LTI rules: role mapping, claim checks, retry backoff, service URLs.

No Flask, no database, no clock: the caller passes the claims, the registration and ``now``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

LTI_VERSION = "1.3.0"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
CLAIM_MESSAGE_TYPE = CLAIM + "message_type"
CLAIM_VERSION = CLAIM + "version"
CLAIM_DEPLOYMENT_ID = CLAIM + "deployment_id"
CLAIM_ROLES = CLAIM + "roles"
CLAIM_CONTEXT = CLAIM + "context"
CLAIM_RESOURCE_LINK = CLAIM + "resource_link"
CLAIM_CUSTOM = CLAIM + "custom"
CLAIM_TARGET_LINK_URI = CLAIM + "target_link_uri"
CLAIM_AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CLAIM_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
CLAIM_DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
CLAIM_DL_CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
CLAIM_DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"

SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_MEMBERSHIPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"

#: Clock skew tolerated between the platform and the tool.
LEEWAY = timedelta(seconds=60)
#: Tokens issued longer ago than this are refused even if their expiry is later.
MAX_TOKEN_AGE = timedelta(hours=1)

_ADMIN_ROLES = {
    "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator",
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
    "http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator",
    "Administrator",
}
_INSTRUCTOR_ROLES = {
    "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
    "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant",
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor",
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty",
    "http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper",
    "Instructor",
    "TeachingAssistant",
}
_LEARNER_ROLES = {
    "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student",
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Learner",
    "Learner",
    "Student",
}


ADMIN, INSTRUCTOR, STUDENT = "admin", "instructor", "student"  # the app's role values


def map_role(lti_roles: Iterable[str]) -> str | None:
    """The app role for a set of LTI roles: administrator > instructor or TA > learner."""
    roles = set(lti_roles)
    if roles & _ADMIN_ROLES:
        return ADMIN
    if roles & _INSTRUCTOR_ROLES:
        return INSTRUCTOR
    if roles & _LEARNER_ROLES:
        return STUDENT
    return None


def is_learner(lti_roles: Iterable[str]) -> bool:
    """True when a roster member is a learner (and not also teaching)."""
    return map_role(lti_roles) == STUDENT


@dataclass(frozen=True)
class Expectation:
    """What a launch's id_token must say, known from the registration and the login."""

    issuer: str
    client_id: str
    nonce: str
    deployment_ids: frozenset[str]
    target_link_uri: str  # the link the login named: the launch must open the same


def _timestamp(claims: Mapping[str, Any], name: str) -> datetime | None:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value, UTC)


def launch_problems(claims: Mapping[str, Any], expected: Expectation, now: datetime) -> list[str]:
    """Every reason the (signature-checked) claims of an id_token are not a valid launch."""
    problems: list[str] = []
    if claims.get("iss") != expected.issuer:
        problems.append("The token was issued by another platform.")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if expected.client_id not in audiences:
        problems.append("The token is not meant for this tool (audience).")
    elif any(other != expected.client_id for other in audiences):
        # LTI 1.3 (Security Framework 5.1.3): a token that also names audiences the tool does
        # not trust is refused, whatever its azp says.
        problems.append("The token also names audiences this tool does not trust.")
    if "azp" in claims and claims.get("azp") != expected.client_id:
        problems.append("The token's authorised party (azp) is not this tool.")
    expires = _timestamp(claims, "exp")
    issued = _timestamp(claims, "iat")
    if expires is None or issued is None:
        problems.append("The token has no expiry or issue time.")
    else:
        if expires + LEEWAY < now:
            problems.append("The token has expired.")
        if issued - LEEWAY > now or issued + MAX_TOKEN_AGE < now:
            problems.append("The token's issue time is not plausible.")
    if claims.get("nonce") != expected.nonce:
        problems.append("The token's nonce does not match this login.")
    if claims.get(CLAIM_DEPLOYMENT_ID) not in expected.deployment_ids:
        problems.append("The deployment is not registered for this platform.")
    if claims.get(CLAIM_VERSION) != LTI_VERSION:
        problems.append("Only LTI 1.3.0 launches are supported.")
    message_type = claims.get(CLAIM_MESSAGE_TYPE)
    if message_type not in (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST):
        problems.append("This kind of LTI message is not supported.")
    if not isinstance(claims.get("sub"), str) or not claims.get("sub"):
        problems.append("The launch does not say who the user is (sub).")
    if not isinstance(claims.get(CLAIM_ROLES), list):
        problems.append("The launch does not list the user's roles.")
    if message_type == RESOURCE_LINK_REQUEST and not (
        isinstance(claims.get(CLAIM_RESOURCE_LINK), dict) and claims[CLAIM_RESOURCE_LINK].get("id")
    ):
        problems.append("The launch does not name its resource link.")
    target = claims.get(CLAIM_TARGET_LINK_URI)
    if target is None and message_type == RESOURCE_LINK_REQUEST:
        problems.append("The launch does not say which link it opens (target_link_uri).")
    elif target is not None and target != expected.target_link_uri:
        problems.append("The launch opens another link than the one its login named.")
    if message_type == DEEP_LINKING_REQUEST:
        settings = claims.get(CLAIM_DL_SETTINGS)
        if not (isinstance(settings, dict) and settings.get("deep_link_return_url")):
            problems.append("The deep-linking request has no return URL.")
        elif "ltiResourceLink" not in settings.get("accept_types", ["ltiResourceLink"]):
            problems.append("The LMS does not accept links to tool content here.")
    return problems


def display_name(claims: Mapping[str, Any]) -> str:
    """The person's name as the platform gives it, or their email's local part."""
    name = str(claims.get("name") or "").strip()
    if not name:
        parts = [str(claims.get(k) or "").strip() for k in ("given_name", "family_name")]
        name = " ".join(p for p in parts if p)
    if not name:
        name = str(claims.get("email") or "LMS user").split("@")[0]
    return name[:200]


def retry_delay(attempts: int) -> timedelta:
    """How long to wait before the next try after ``attempts`` failures: 1 min doubling to 6 h."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=6))


def scores_url(lineitem_url: str) -> str:
    """The AGS scores endpoint of a line item (``/scores`` goes before any query string)."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def url_problems(value: str, label: str) -> list[str]:
    """Why a platform URL cannot be used: it must be absolute http(s) with a host."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return [f"{label} must be a full https:// address."]
    return []
