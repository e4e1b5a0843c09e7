"""Admins register the platforms (LMSs) allowed to launch the tool."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.auth.models import User
from lms.errors import Conflict, InvalidInput, NotFound, Problem
from lms.extensions import db
from lms.ledger import audit
from lms.lti import platform_api, rules
from lms.lti.models import (
    LtiDeployment,
    LtiPlatform,
)


@dataclass(frozen=True)
class PlatformData:
    """What an admin types to register a platform."""

    name: str
    issuer: str
    client_id: str
    deployment_ids: str  # one per line (commas accepted too)
    auth_login_url: str
    auth_token_url: str
    key_set_url: str


def _parse_deployments(text: str) -> list[str]:
    seen: list[str] = []
    for item in re.split(r"[\s,]+", text.strip()):
        if item and item not in seen:
            seen.append(item)
    return seen


def _platform_problems(data: PlatformData, deployments: list[str]) -> list[Problem]:
    problems = []
    if not data.name.strip():
        problems.append(Problem("Give the platform a name.", "name"))
    problems += _on("issuer", rules.url_problems(data.issuer, "The issuer"))
    if not data.client_id.strip():
        problems.append(
            Problem("Give the client id the platform assigned to the tool.", "client_id")
        )
    if not deployments:
        problems.append(Problem("Give at least one deployment id.", "deployment_ids"))
    if any(len(d) > 255 for d in deployments):
        problems.append(Problem("A deployment id is at most 255 characters.", "deployment_ids"))
    problems += _on(
        "auth_login_url", rules.url_problems(data.auth_login_url, "The authorisation URL")
    )
    problems += _on("auth_token_url", rules.url_problems(data.auth_token_url, "The token URL"))
    problems += _on("key_set_url", rules.url_problems(data.key_set_url, "The key set URL"))
    return problems


def _on(field: str, messages: list[str]) -> list[Problem]:
    return [Problem(message, field) for message in messages]


def list_platforms() -> list[LtiPlatform]:
    """Every registered platform with its deployments, in two queries."""
    return list(
        db.session.scalars(
            select(LtiPlatform)
            .options(selectinload(LtiPlatform.deployments))
            .order_by(LtiPlatform.name)
        )
    )


def get_platform(platform_id: int) -> LtiPlatform:
    """A platform with its deployments, or ``NotFound``."""
    platform = db.session.scalar(
        select(LtiPlatform)
        .where(LtiPlatform.id == platform_id)
        .options(selectinload(LtiPlatform.deployments))
    )
    if platform is None:
        raise NotFound("There is no such platform.")
    return platform


def save_platform(
    actor: User, data: PlatformData, now: datetime, platform: LtiPlatform | None = None
) -> LtiPlatform:
    """Register a platform (or change one)."""
    deployments = _parse_deployments(data.deployment_ids)
    problems = _platform_problems(data, deployments)
    issuer, client_id = data.issuer.strip(), data.client_id.strip()
    clash = db.session.scalar(
        select(LtiPlatform).where(LtiPlatform.issuer == issuer, LtiPlatform.client_id == client_id)
    )
    if clash is not None and clash is not platform:
        raise Conflict(f"The platform {issuer} with client id {client_id} is already registered.")
    if problems:
        raise InvalidInput(problems=problems)
    created = platform is None
    if platform is None:
        platform = LtiPlatform(created_at=now, deployments=[])
        db.session.add(platform)
    platform.name = data.name.strip()
    platform.issuer = issuer
    platform.client_id = client_id
    platform.auth_login_url = data.auth_login_url.strip()
    platform.auth_token_url = data.auth_token_url.strip()
    platform.key_set_url = data.key_set_url.strip()
    kept = {d.deployment_id: d for d in platform.deployments}
    platform.deployments = [kept.get(d) or LtiDeployment(deployment_id=d) for d in deployments]
    db.session.flush()
    platform_api.clear_jwks_cache()
    audit.record_event(
        "lti.platform_registered" if created else "lti.platform_changed",
        actor=actor,
        now=now,
        target_type="lti_platform",
        target_id=platform.id,
        details={
            "name": platform.name,
            "issuer": issuer,
            "client_id": client_id,
            "deployment_ids": deployments,
            "auth_login_url": platform.auth_login_url,
            "auth_token_url": platform.auth_token_url,
            "key_set_url": platform.key_set_url,
        },
    )
    return platform
