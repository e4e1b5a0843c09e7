"""Calls the tool makes to a platform: its key set, OAuth2 tokens, scores and rosters."""

from __future__ import annotations

import secrets
import threading
from datetime import datetime, timedelta
from typing import Any

import requests

from lms.lti import keys, rules
from lms.lti.models import LtiPlatform

TIMEOUT = 10  # seconds, for every call to a platform
JWKS_TTL = timedelta(hours=1)
MAX_ROSTER_PAGES = 100

_jwks_cache: dict[str, tuple[datetime, dict[str, Any]]] = {}
_jwks_lock = threading.Lock()


class PlatformError(Exception):
    """A platform could not be reached or refused a call; the message says which and why."""


def clear_jwks_cache() -> None:
    """Forget every cached key set (tests, and after a platform is edited)."""
    with _jwks_lock:
        _jwks_cache.clear()


def platform_key_set(url: str, now: datetime, *, refresh: bool = False) -> dict[str, Any]:
    """The platform's JSON Web Key Set, cached for an hour (refetched on an unknown kid)."""
    with _jwks_lock:
        cached = _jwks_cache.get(url)
    if cached and not refresh and cached[0] + JWKS_TTL > now:
        return cached[1]
    try:
        response = requests.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
        response.raise_for_status()
        key_set = response.json()
    except (requests.RequestException, ValueError) as error:
        raise PlatformError(f"The platform's key set could not be fetched: {error}") from error
    if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
        raise PlatformError("The platform's key set is not a JSON Web Key Set.")
    with _jwks_lock:
        _jwks_cache[url] = (now, key_set)
    return key_set


def access_token(platform: LtiPlatform, scopes: list[str], now: datetime) -> str:
    """An OAuth2 access token from the platform (client credentials, signed JWT assertion)."""
    assertion = keys.sign(
        {
            "iss": platform.client_id,
            "sub": platform.client_id,
            "aud": platform.auth_token_url,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(minutes=5)).timestamp()),
            "jti": secrets.token_urlsafe(16),
        },
        now,
    )
    try:
        response = requests.post(
            platform.auth_token_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
                "scope": " ".join(scopes),
            },
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        token = response.json().get("access_token")
    except (requests.RequestException, ValueError, AttributeError) as error:
        raise PlatformError(f"No access token from {platform.name}: {error}") from error
    if not isinstance(token, str) or not token:
        raise PlatformError(f"{platform.name} answered without an access token.")
    return token


def post_score(lineitem_url: str, token: str, score: dict[str, Any]) -> None:
    """Send one score to a line item's scores endpoint (AGS)."""
    try:
        response = requests.post(
            rules.scores_url(lineitem_url),
            json=score,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/vnd.ims.lis.v1.score+json",
            },
            timeout=TIMEOUT,
        )
        response.raise_for_status()
    except requests.RequestException as error:
        raise PlatformError(f"The score was refused: {error}") from error


def roster(memberships_url: str, token: str) -> list[dict[str, Any]]:
    """Every member of a platform course (NRPS), following ``Link: rel=next`` pages."""
    members: list[dict[str, Any]] = []
    url: str | None = memberships_url
    for _ in range(MAX_ROSTER_PAGES):
        if url is None:
            return members
        try:
            response = requests.get(
                url,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Accept": "application/vnd.ims.lti-nrps.v2.membershipcontainer+json",
                },
                timeout=TIMEOUT,
            )
            response.raise_for_status()
            page = response.json()
        except (requests.RequestException, ValueError) as error:
            raise PlatformError(f"The course roster could not be read: {error}") from error
        if not isinstance(page, dict) or not isinstance(page.get("members"), list):
            raise PlatformError("The course roster is not a membership container.")
        members.extend(m for m in page["members"] if isinstance(m, dict))
        url = response.links.get("next", {}).get("url")
    raise PlatformError(f"The course roster has more than {MAX_ROSTER_PAGES} pages.")
