"""Who a launch is: the account a platform user was linked to, a new account for a new
user, and the request an existing account's owner must confirm before a platform user is
linked to it (an email alone never opens an account)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.auth import one_time
from lms.auth import service as auth
from lms.auth.models import Role, User
from lms.errors import InvalidInput, NotFound, PermissionDenied
from lms.extensions import db
from lms.ledger import audit
from lms.lti import rules
from lms.lti.models import LtiIdentity, LtiLinkRequest, LtiPlatform
from lms.lti.service.launch_result import LaunchResult


def mapped_role(claims: Mapping[str, Any]) -> Role | None:
    """The app role a launch's LTI roles map to (None: none it knows)."""
    role_value = rules.map_role([str(r) for r in claims.get(rules.CLAIM_ROLES) or []])
    return Role(role_value) if role_value else None


def linked_user(platform: LtiPlatform, subject: str) -> User | None:
    """The account this platform user was linked to before, if any."""
    identity = db.session.scalar(
        select(LtiIdentity)
        .where(LtiIdentity.platform_id == platform.id, LtiIdentity.subject == subject)
        .options(selectinload(LtiIdentity.user))
    )
    return identity.user if identity is not None else None


def account_with_email(claims: Mapping[str, Any]) -> User | None:
    """An existing account with the launch's email, if any (never opened by that alone)."""
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    return auth.find_user_by_email(email) if email else None


ROLE_NAMES = {Role.STUDENT: "a learner", Role.INSTRUCTOR: "an instructor", Role.ADMIN: "an admin"}


def check_may_link(user: User, mapped: Role | None) -> None:
    """An existing account is linked only to a launch of exactly its own role."""
    if not user.active:
        raise PermissionDenied("Your account here is disabled. Ask the school to re-enable it.")
    if mapped is not user.role:
        launched_as = ROLE_NAMES[mapped] if mapped else "someone whose role it did not say"
        raise PermissionDenied(
            f"An account with your email already exists here as {ROLE_NAMES[user.role]}, "
            f"but your LMS launched you as {launched_as}. Accounts are never linked across "
            "roles: ask the school's administrator."
        )


def check_may_launch_as(user: User, mapped: Role | None) -> None:
    """A linked account opens only from a launch that may hold it: never a staff account
    from a learner's launch (an account is never promoted by a launch either)."""
    if not user.active:
        raise PermissionDenied("Your account here is disabled. Ask the school to re-enable it.")
    if not user.is_student and mapped not in (Role.INSTRUCTOR, Role.ADMIN):
        raise PermissionDenied(
            "This launch is not an instructor's or an administrator's, and the account it is "
            "linked to here is staff: staff accounts open only from a staff launch."
        )


def new_account(
    platform: LtiPlatform, claims: Mapping[str, Any], mapped: Role | None, now: datetime
) -> User:
    """A new account for a platform user seen for the first time, linked to it."""
    if mapped is None:
        raise InvalidInput(
            "The LMS did not say whether you are a learner, an instructor or an "
            "administrator, so no account could be made."
        )
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    if not email:
        raise InvalidInput(
            "The LMS did not share your email address, so no account could be made. "
            "Ask the LMS administrator to let the tool see names and emails."
        )
    user = auth.create_user(
        email=email,
        full_name=rules.display_name(claims),
        role=mapped,
        password=None,
        actor=None,
        now=now,
    )
    link_identity(platform, claims["sub"], user, now, how="created")
    return user


def link_identity(
    platform: LtiPlatform, subject: str, user: User, now: datetime, *, how: str
) -> None:
    """Link the platform user to the account (audited)."""
    db.session.add(
        LtiIdentity(platform_id=platform.id, subject=subject, user_id=user.id, created_at=now)
    )
    db.session.flush()
    audit.record_event(
        "lti.identity_linked",
        actor=user,
        now=now,
        target_type="user",
        target_id=user.id,
        details={"platform_id": platform.id, "subject": subject, "how": how},
    )


LINK_REQUEST_LIFETIME = timedelta(minutes=30)


def request_link(
    platform: LtiPlatform, claims: Mapping[str, Any], user: User, now: datetime
) -> LaunchResult:
    """Ask the existing account's owner to confirm the link: a request, its token and the
    launching browser's secret."""
    token, browser = one_time.new_secret(), one_time.new_secret()
    pending = LtiLinkRequest(
        token_hash=one_time.hash_secret(token),
        browser_hash=one_time.hash_secret(browser),
        platform_id=platform.id,
        subject=str(claims["sub"]),
        user_id=user.id,
        claims=json.dumps(dict(claims)),
        created_at=now,
        expires_at=now + LINK_REQUEST_LIFETIME,
    )
    db.session.add(pending)
    db.session.flush()
    audit.record_event(
        "lti.link_requested",
        actor=None,
        now=now,
        target_type="user",
        target_id=user.id,
        details={"platform_id": platform.id, "subject": pending.subject, "request": pending.id},
    )
    return LaunchResult(user=None, link_token=token, browser_secret=browser)


@dataclass(frozen=True)
class LinkRequestView:
    """What the confirmation page shows about a pending link request."""

    platform_name: str
    lms_name: str
    email: str
    role: str
    account_id: int


def pending_link(token: str, now: datetime) -> tuple[LtiLinkRequest, LinkRequestView]:
    """The open link request of this token, or ``NotFound`` (unknown, used or expired)."""
    pending = db.session.scalar(
        select(LtiLinkRequest)
        .where(LtiLinkRequest.token_hash == one_time.hash_secret(token))
        .options(selectinload(LtiLinkRequest.platform), selectinload(LtiLinkRequest.user))
    )
    if pending is None or pending.resolved_at is not None or pending.expires_at < now:
        raise NotFound(
            "This request to link your LMS account has expired or was already answered. "
            "Launch the tool again from your LMS."
        )
    claims = json.loads(pending.claims)
    view = LinkRequestView(
        platform_name=pending.platform.name,
        lms_name=rules.display_name(claims),
        email=pending.user.email,
        role=ROLE_NAMES[pending.user.role],
        account_id=pending.user_id,
    )
    return pending, view
