"""Calls the tool makes to a platform: its key set, OAuth2 tokens, scores and rosters."""

from __future__ import annotations

import secrets
import threading
from datetime import datetime, timedelta
from typing import Any

import jwt
import requests

from lms import signing
from lms.lti import rules
from lms.lti.models import LtiPlatform

TIMEOUT = 10  # seconds, for every call to a platform
JWKS_TTL = timedelta(hours=1)
MAX_ROSTER_PAGES = 100


class PlatformError(Exception):
    """A platform could not be reached or refused a call; the message says which and why."""


class MissingKey(PlatformError):
    """The token was signed with a key the platform's key set does not have."""


class _PlatformKeys(jwt.PyJWKClient):
    """PyJWT's JWKS client (the key set cached for an hour, fetched again once for an unknown
    key id), fetching through ``requests`` like every other call to a platform."""

    def fetch_data(self) -> Any:
        try:
            response = requests.get(
                self.uri, timeout=TIMEOUT, headers={"Accept": "application/json"}
            )
            response.raise_for_status()
            key_set = response.json()
        except (requests.RequestException, ValueError) as error:
            raise jwt.PyJWKClientConnectionError(str(error)) from error
        if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
            raise jwt.PyJWKClientError("it is not a JSON Web Key Set")
        return key_set


_clients: dict[str, _PlatformKeys] = {}
_clients_lock = threading.Lock()


def clear_jwks_cache() -> None:
    """Forget every cached key set (tests, and after a platform is edited)."""
    with _clients_lock:
        _clients.clear()


def platform_signing_key(key_set_url: str, id_token: str) -> jwt.PyJWK:
    """The platform's key that signed ``id_token``, from its key set (cached per URL)."""
    with _clients_lock:
        client = _clients.get(key_set_url)
        if client is None:
            client = _PlatformKeys(
                key_set_url, lifespan=JWKS_TTL.total_seconds(), cooldown_duration=0
            )
            _clients[key_set_url] = client
    try:
        if jwt.get_unverified_header(id_token).get("kid") is None:
            # No key id: acceptable only when the platform publishes exactly one key.
            keys = client.get_jwk_set().keys
            if len(keys) == 1:
                return keys[0]
            raise MissingKey("the token names no key and the platform publishes several")
        return client.get_signing_key_from_jwt(id_token)
    except jwt.PyJWKClientConnectionError as error:
        raise PlatformError(f"The platform's key set could not be fetched: {error}") from error
    except (jwt.PyJWKClientError, jwt.PyJWKSetError) as error:
        if "Unable to find a signing key" in str(error):
            raise MissingKey(str(error)) from error
        raise PlatformError(f"The platform's key set could not be read: {error}") from error


def access_token(platform: LtiPlatform, scopes: list[str], now: datetime) -> str:
    """An OAuth2 access token from the platform (client credentials, signed JWT assertion)."""
    assertion = signing.store().sign(
        {
            "iss": platform.client_id,
            "sub": platform.client_id,
            "aud": platform.auth_token_url,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(minutes=5)).timestamp()),
            "jti": secrets.token_urlsafe(16),
        }
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
