"""OIDC login initiation and the launch: every check, then the user logged in.

A refused launch raises ``NotAuthenticated`` (401; ``InvalidInput``, 400, for a request missing
its parts) before anything is written, and the request's transaction is rolled back, so a
refused launch leaves no row behind.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from sqlalchemy import delete, select, update

from lms.auth import one_time
from lms.auth.models import User
from lms.courses import reads as courses
from lms.errors import Conflict, InvalidInput, NotAuthenticated, PermissionDenied
from lms.extensions import db
from lms.ledger import audit
from lms.lti import platform_api, rules
from lms.lti.models import (
    LinkOutcome,
    LtiContext,
    LtiContextMember,
    LtiLinkRequest,
    LtiLoginState,
    LtiPlatform,
    LtiResourceLink,
)
from lms.lti.service import identity
from lms.lti.service.launch_result import LaunchResult
from lms.lti.service.platforms import get_platform

LOGIN_STATE_LIFETIME = timedelta(minutes=10)
STATE_COOKIE_PREFIX = "lti_state_"


def begin_login(params: Mapping[str, str], redirect_uri: str, now: datetime) -> tuple[str, str]:
    """Start a launch: remember a fresh state and nonce; return the state and the URL to go to."""
    issuer = (params.get("iss") or "").strip()
    login_hint = params.get("login_hint") or ""
    if not issuer or not login_hint or not params.get("target_link_uri"):
        raise InvalidInput(
            "This login request is incomplete: the LMS must send iss, login_hint and "
            "target_link_uri."
        )
    query = select(LtiPlatform).where(LtiPlatform.issuer == issuer)
    if params.get("client_id"):
        query = query.where(LtiPlatform.client_id == params["client_id"])
    platforms = list(db.session.scalars(query.limit(2)))
    if not platforms:
        raise InvalidInput(
            f"The platform {issuer} is not registered with this tool. Ask an administrator to "
            "register it first."
        )
    if len(platforms) > 1:
        raise InvalidInput(
            f"Several registrations of {issuer} exist; the LMS must send its client_id."
        )
    platform = platforms[0]
    target = str(params["target_link_uri"])
    if not _is_own_link(target, redirect_uri):
        raise InvalidInput(
            "The login names a target link that is not this tool's: the LMS must send a "
            "target_link_uri on the tool's own address."
        )
    # Logins that were never completed are of no use once expired; keep a day for inquiry.
    db.session.execute(
        delete(LtiLoginState).where(LtiLoginState.expires_at < now - timedelta(days=1))
    )
    state = LtiLoginState(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        platform_id=platform.id,
        target_link_uri=target[:1000],
        created_at=now,
        expires_at=now + LOGIN_STATE_LIFETIME,
    )
    db.session.add(state)
    db.session.flush()
    auth_params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": redirect_uri,
        "login_hint": login_hint,
        "state": state.state,
        "nonce": state.nonce,
    }
    if params.get("lti_message_hint"):
        auth_params["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in platform.auth_login_url else "?"
    return state.state, platform.auth_login_url + separator + urlencode(auth_params)


def _is_own_link(target: str, launch_url: str) -> bool:
    """Whether ``target`` is on this tool's own address (scheme and host of its launch URL)."""
    own, asked = urlsplit(launch_url), urlsplit(target)
    return (asked.scheme, asked.netloc) == (own.scheme, own.netloc)


def verify_launch(
    form: Mapping[str, str], cookies: Mapping[str, str], now: datetime
) -> tuple[dict[str, Any], LtiLoginState, LtiPlatform]:
    """Check a launch's state and id_token. A launch that does not prove where it comes
    from (state, signature, issuer, audience, times, nonce ...) is ``NotAuthenticated``
    (401) with every reason; a request missing its parts is ``InvalidInput`` (400)."""
    id_token = form.get("id_token") or ""
    state_value = form.get("state") or ""
    if not id_token or not state_value:
        raise InvalidInput("The launch did not include an id_token and a state.")
    if cookies.get(STATE_COOKIE_PREFIX + state_value) != state_value:
        raise NotAuthenticated(
            "The launch could not be matched to its login: the state cookie is missing. "
            "Allow cookies for this site (or open the tool in a new window) and launch again."
        )
    login_state = db.session.scalar(select(LtiLoginState).where(LtiLoginState.state == state_value))
    if login_state is None:
        raise NotAuthenticated("The launch names a login this tool did not start.")
    if login_state.used_at is not None:
        raise NotAuthenticated("This launch was already used. Launch the tool again from your LMS.")
    if login_state.expires_at < now:
        raise NotAuthenticated("The login took too long and expired. Launch the tool again.")
    platform = get_platform(login_state.platform_id)
    try:
        header = jwt.get_unverified_header(id_token)
        unverified = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise InvalidInput("The id_token is not a readable JSON Web Token.") from error
    if unverified.get("iss") != platform.issuer:
        raise NotAuthenticated(
            f"The token comes from an unknown platform ({unverified.get('iss')!s:.200})."
        )
    claims = _verified_claims(id_token, header, platform, now)
    problems = rules.launch_problems(
        claims,
        rules.Expectation(
            issuer=platform.issuer,
            client_id=platform.client_id,
            nonce=login_state.nonce,
            deployment_ids=frozenset(d.deployment_id for d in platform.deployments),
            target_link_uri=login_state.target_link_uri,
        ),
        now,
    )
    if problems:
        raise NotAuthenticated("The launch was refused. " + " ".join(problems))
    return claims, login_state, platform


def _verified_claims(
    id_token: str, header: Mapping[str, Any], platform: LtiPlatform, now: datetime
) -> dict[str, Any]:
    if header.get("alg") != "RS256":
        raise NotAuthenticated("The id_token must be signed with RS256.")
    try:
        key = platform_api.platform_signing_key(platform.key_set_url, id_token)
    except platform_api.MissingKey as error:
        raise NotAuthenticated(
            "The id_token was signed with a key the platform does not publish."
        ) from error
    except platform_api.PlatformError as error:
        raise InvalidInput(f"The launch could not be checked. {error}") from error
    try:
        # Times are checked by rules.launch_problems against ``now``.
        return jwt.decode(
            id_token,
            key=key,
            algorithms=["RS256"],
            options={
                "verify_aud": False,
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_iss": False,
            },
        )
    except jwt.InvalidSignatureError as error:
        raise NotAuthenticated("The id_token's signature is not valid.") from error
    except jwt.PyJWTError as error:
        raise NotAuthenticated(f"The id_token could not be verified ({error}).") from error


def complete_launch(
    claims: Mapping[str, Any], login_state: LtiLoginState, platform: LtiPlatform, now: datetime
) -> LaunchResult:
    """Use up the login, find (or create) the user, record the course and link.

    An account is reached only through an identity this platform linked before; an email
    that names an existing account starts a link request its owner must confirm."""
    mapped = identity.mapped_role(claims)
    user = identity.linked_user(platform, claims["sub"])
    if user is None:
        existing = identity.account_with_email(claims)
        if existing is not None:
            identity.check_may_link(existing, mapped)
            _use_up(login_state, now)
            return identity.request_link(platform, claims, existing, now)
        user = identity.new_account(platform, claims, mapped, now)
    identity.check_may_launch_as(user, mapped)
    _use_up(login_state, now)
    return _finish_launch(user, claims, platform, now)


def _use_up(login_state: LtiLoginState, now: datetime) -> None:
    # Used once: of two simultaneous posts of the same launch, only one finds it unused.
    claimed = db.session.execute(
        update(LtiLoginState)
        .where(LtiLoginState.id == login_state.id, LtiLoginState.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise InvalidInput("This launch was already used. Launch the tool again from your LMS.")


def _finish_launch(
    user: User, claims: Mapping[str, Any], platform: LtiPlatform, now: datetime
) -> LaunchResult:
    """Record the platform course and link for ``user``; say where the launch goes."""
    message_type = claims[rules.CLAIM_MESSAGE_TYPE]
    if message_type == rules.DEEP_LINKING_REQUEST and not (user.is_instructor or user.is_admin):
        raise InvalidInput("Only instructors can choose content to place in the LMS course.")
    context = _record_context(platform, claims, user, now)
    result = LaunchResult(user=user)
    if message_type == rules.DEEP_LINKING_REQUEST:
        settings = claims[rules.CLAIM_DL_SETTINGS]
        result.deep_link = {
            "platform_id": platform.id,
            "deployment_id": claims[rules.CLAIM_DEPLOYMENT_ID],
            "return_url": settings["deep_link_return_url"],
            "accept_multiple": bool(settings.get("accept_multiple", True)),
            "data": settings.get("data"),
        }
    elif context is not None:
        link = _record_link(context, claims, now)
        result.module_id = link.module_id
        if link.module_id is None and _custom_module_code(claims):
            result.message = "The linked module no longer exists; here is your start page."
    db.session.flush()
    audit.record_event(
        "lti.launch",
        actor=user,
        now=now,
        target_type="user",
        target_id=user.id,
        details={
            "platform_id": platform.id,
            "message_type": message_type,
            "context_id": context.context_id if context else None,
            "roles": [str(r) for r in claims.get(rules.CLAIM_ROLES) or []][:20],
        },
    )
    return result


def answer_link(
    actor: User, token: str, browser_secret: str | None, confirm: bool, now: datetime
) -> LaunchResult | None:
    """The account's owner, logged in, confirms (the launch then finishes) or declines."""
    pending, _view = identity.pending_link(token, now)
    if actor.id != pending.user_id:
        raise PermissionDenied(
            "This request is for another account. Log out, then log in to the account named "
            "on this page."
        )
    if not one_time.same_secret(browser_secret, pending.browser_hash):
        raise PermissionDenied(
            "Confirm the link in the browser you launched the tool from: this one did not "
            "start it. Launch the tool again from your LMS."
        )
    resolved = db.session.execute(
        update(LtiLinkRequest)
        .where(LtiLinkRequest.id == pending.id, LtiLinkRequest.resolved_at.is_(None))
        .values(
            resolved_at=now,
            outcome=LinkOutcome.CONFIRMED if confirm else LinkOutcome.DECLINED,
        )
        .execution_options(synchronize_session=False)
    )
    if resolved.rowcount != 1:
        raise Conflict("This request was already answered.")
    platform = pending.platform
    if not confirm:
        audit.record_event(
            "lti.link_declined",
            actor=actor,
            now=now,
            target_type="user",
            target_id=actor.id,
            details={"platform_id": platform.id, "subject": pending.subject},
        )
        return None
    claims = json.loads(pending.claims)
    identity.check_may_link(actor, identity.mapped_role(claims))
    if identity.linked_user(platform, pending.subject) is not None:
        raise Conflict("This LMS account was linked to an account here in the meantime.")
    identity.link_identity(platform, pending.subject, actor, now, how="confirmed by the owner")
    return _finish_launch(actor, claims, platform, now)


def _record_context(
    platform: LtiPlatform, claims: Mapping[str, Any], user: User, now: datetime
) -> LtiContext | None:
    claim = claims.get(rules.CLAIM_CONTEXT)
    if not isinstance(claim, dict) or not claim.get("id"):
        return None
    context = db.session.scalar(
        select(LtiContext).where(
            LtiContext.platform_id == platform.id, LtiContext.context_id == str(claim["id"])
        )
    )
    if context is None:
        context = LtiContext(
            platform_id=platform.id, context_id=str(claim["id"])[:255], created_at=now
        )
        db.session.add(context)
    context.deployment_id = claims[rules.CLAIM_DEPLOYMENT_ID]
    context.title = str(claim.get("title") or claim.get("label") or context.title or "")[:300]
    nrps = claims.get(rules.CLAIM_NRPS)
    if isinstance(nrps, dict) and nrps.get("context_memberships_url"):
        context.memberships_url = str(nrps["context_memberships_url"])[:1000]
    db.session.flush()
    ensure_member(context, user, is_instructor=not user.is_student, now=now)
    return context


def ensure_member(context: LtiContext, user: User, *, is_instructor: bool, now: datetime) -> None:
    """Record that the user belongs to the platform course (active, as instructor or not)."""
    member = db.session.scalar(
        select(LtiContextMember).where(
            LtiContextMember.context_id == context.id, LtiContextMember.user_id == user.id
        )
    )
    if member is None:
        member = LtiContextMember(context_id=context.id, user_id=user.id, created_at=now)
        db.session.add(member)
    member.is_instructor = is_instructor
    member.active = True


def _custom_module_code(claims: Mapping[str, Any]) -> str | None:
    custom = claims.get(rules.CLAIM_CUSTOM)
    code = custom.get("module_code") if isinstance(custom, dict) else None
    return str(code) if code else None


def _record_link(context: LtiContext, claims: Mapping[str, Any], now: datetime) -> LtiResourceLink:
    claim = claims[rules.CLAIM_RESOURCE_LINK]
    link = db.session.scalar(
        select(LtiResourceLink).where(
            LtiResourceLink.context_id == context.id,
            LtiResourceLink.resource_link_id == str(claim["id"]),
        )
    )
    if link is None:
        link = LtiResourceLink(
            context_id=context.id, resource_link_id=str(claim["id"])[:255], created_at=now
        )
        db.session.add(link)
    link.title = str(claim.get("title") or link.title or "")[:300]
    code = _custom_module_code(claims)
    if code:
        module = courses.modules_by_code([code]).get(code)
        link.module_id = module.id if module else None
    ags = claims.get(rules.CLAIM_AGS)
    if isinstance(ags, dict) and ags.get("lineitem"):
        link.lineitem_url = str(ags["lineitem"])[:1000]
    db.session.flush()
    return link
