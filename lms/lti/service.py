"""LTI use cases: register platforms, log in and launch, deep link, send scores, sync rosters.

Every function takes the actor (where there is one) and ``now``, writes and flushes; the view
or the CLI commits. A refused launch raises ``InvalidInput`` before anything is written, and
the error handler rolls the transaction back, so a refused launch leaves no row behind.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import jwt
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from lms.auth import service as auth
from lms.auth.models import Role, User
from lms.courses import service as courses
from lms.courses.models import Module
from lms.enrollment import service as enrollment
from lms.enrollment.models import Cohort
from lms.errors import Conflict, DomainError, InvalidInput, NotFound
from lms.extensions import db
from lms.lti import keys, platform_api, rules
from lms.lti.models import (
    LtiContext,
    LtiContextMember,
    LtiDeployment,
    LtiIdentity,
    LtiLoginState,
    LtiPlatform,
    LtiResourceLink,
    LtiScoreOutbox,
    ScoreStatus,
)
from lms.records import audit
from lms.records import service as ledger
from lms.records.models import LedgerEntry, LedgerKind

LOGIN_STATE_LIFETIME = timedelta(minutes=10)
STATE_COOKIE_PREFIX = "lti_state_"

# --- platforms ---------------------------------------------------------------------------


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


def _platform_problems(data: PlatformData, deployments: list[str]) -> list[str]:
    problems = []
    if not data.name.strip():
        problems.append("Give the platform a name.")
    problems += rules.url_problems(data.issuer, "The issuer")
    if not data.client_id.strip():
        problems.append("Give the client id the platform assigned to the tool.")
    if not deployments:
        problems.append("Give at least one deployment id.")
    if any(len(d) > 255 for d in deployments):
        problems.append("A deployment id is at most 255 characters.")
    problems += rules.url_problems(data.auth_login_url, "The authorisation URL")
    problems += rules.url_problems(data.auth_token_url, "The token URL")
    problems += rules.url_problems(data.key_set_url, "The key set URL")
    return problems


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
    """Register a platform (or change one); the tool's key pair is made if it has none yet."""
    deployments = _parse_deployments(data.deployment_ids)
    problems = _platform_problems(data, deployments)
    issuer, client_id = data.issuer.strip(), data.client_id.strip()
    clash = db.session.scalar(
        select(LtiPlatform).where(LtiPlatform.issuer == issuer, LtiPlatform.client_id == client_id)
    )
    if clash is not None and clash is not platform:
        raise Conflict(f"The platform {issuer} with client id {client_id} is already registered.")
    if problems:
        raise InvalidInput(" ".join(problems))
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
    keys.current_key(now)
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


# --- OIDC login initiation ---------------------------------------------------------------


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
    # Logins that were never completed are of no use once expired; keep a day for inquiry.
    db.session.execute(
        delete(LtiLoginState).where(LtiLoginState.expires_at < now - timedelta(days=1))
    )
    state = LtiLoginState(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        platform_id=platform.id,
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


# --- launch ------------------------------------------------------------------------------


@dataclass
class LaunchResult:
    """Who was launched, and where they go next."""

    user: User
    module_id: int | None = None
    deep_link: dict[str, Any] | None = None
    message: str | None = None


def verify_launch(
    form: Mapping[str, str], cookies: Mapping[str, str], now: datetime
) -> tuple[dict[str, Any], LtiLoginState, LtiPlatform]:
    """Check a launch's state and id_token; every failure is ``InvalidInput`` with a reason."""
    id_token = form.get("id_token") or ""
    state_value = form.get("state") or ""
    if not id_token or not state_value:
        raise InvalidInput("The launch did not include an id_token and a state.")
    if cookies.get(STATE_COOKIE_PREFIX + state_value) != state_value:
        raise InvalidInput(
            "The launch could not be matched to its login: the state cookie is missing. "
            "Allow cookies for this site (or open the tool in a new window) and launch again."
        )
    login_state = db.session.scalar(select(LtiLoginState).where(LtiLoginState.state == state_value))
    if login_state is None:
        raise InvalidInput("The launch names a login this tool did not start.")
    if login_state.used_at is not None:
        raise InvalidInput("This launch was already used. Launch the tool again from your LMS.")
    if login_state.expires_at < now:
        raise InvalidInput("The login took too long and expired. Launch the tool again.")
    platform = get_platform(login_state.platform_id)
    try:
        header = jwt.get_unverified_header(id_token)
        unverified = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise InvalidInput("The id_token is not a readable JSON Web Token.") from error
    if unverified.get("iss") != platform.issuer:
        raise InvalidInput(
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
        ),
        now,
    )
    if problems:
        raise InvalidInput("The launch was refused. " + " ".join(problems))
    return claims, login_state, platform


def _verified_claims(
    id_token: str, header: Mapping[str, Any], platform: LtiPlatform, now: datetime
) -> dict[str, Any]:
    if header.get("alg") != "RS256":
        raise InvalidInput("The id_token must be signed with RS256.")
    try:
        key_set = platform_api.platform_key_set(platform.key_set_url, now)
        jwk = _find_key(key_set, header.get("kid"))
        if jwk is None:  # the platform may have rotated its keys: fetch once more
            key_set = platform_api.platform_key_set(platform.key_set_url, now, refresh=True)
            jwk = _find_key(key_set, header.get("kid"))
    except platform_api.PlatformError as error:
        raise InvalidInput(f"The launch could not be checked. {error}") from error
    if jwk is None:
        raise InvalidInput("The id_token was signed with a key the platform does not publish.")
    try:
        key = jwt.PyJWK(jwk, algorithm="RS256")
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
        raise InvalidInput("The id_token's signature is not valid.") from error
    except jwt.PyJWTError as error:
        raise InvalidInput(f"The id_token could not be verified ({error}).") from error


def _find_key(key_set: Mapping[str, Any], kid: object) -> dict[str, Any] | None:
    candidates = [k for k in key_set.get("keys", []) if isinstance(k, dict)]
    if kid is None:
        return candidates[0] if len(candidates) == 1 else None
    return next((k for k in candidates if k.get("kid") == kid), None)


def complete_launch(
    claims: Mapping[str, Any], login_state: LtiLoginState, platform: LtiPlatform, now: datetime
) -> LaunchResult:
    """Use up the login, find or create the user, record the course and link."""
    lti_roles = [str(r) for r in claims.get(rules.CLAIM_ROLES) or []]
    role_value = rules.map_role(lti_roles)
    mapped = Role(role_value) if role_value else None
    message_type = claims[rules.CLAIM_MESSAGE_TYPE]
    user = _launched_user(platform, claims, mapped, now)
    if message_type == rules.DEEP_LINKING_REQUEST and not (user.is_instructor or user.is_admin):
        raise InvalidInput("Only instructors can choose content to place in the LMS course.")
    login_state.used_at = now
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
            "roles": lti_roles[:20],
        },
    )
    return result


def _launched_user(
    platform: LtiPlatform, claims: Mapping[str, Any], mapped: Role | None, now: datetime
) -> User:
    subject = claims["sub"]
    identity = db.session.scalar(
        select(LtiIdentity)
        .where(LtiIdentity.platform_id == platform.id, LtiIdentity.subject == subject)
        .options(selectinload(LtiIdentity.user))
    )
    if identity is not None:
        user = identity.user
    else:
        email = claims.get("email") if isinstance(claims.get("email"), str) else None
        user = auth.find_user_by_email(email) if email else None
        if user is None:
            if mapped is None:
                raise InvalidInput(
                    "The LMS did not say whether you are a learner, an instructor or an "
                    "administrator, so no account could be made."
                )
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
        identity = LtiIdentity(
            platform_id=platform.id, subject=subject, user_id=user.id, created_at=now
        )
        db.session.add(identity)
        db.session.flush()
        audit.record_event(
            "lti.identity_linked",
            actor=user,
            now=now,
            target_type="user",
            target_id=user.id,
            details={"platform_id": platform.id, "subject": subject},
        )
    if not user.active:
        raise InvalidInput("Your account here is disabled. Ask the school to re-enable it.")
    return user


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
    _ensure_member(context, user, is_instructor=not user.is_student, now=now)
    return context


def _ensure_member(context: LtiContext, user: User, *, is_instructor: bool, now: datetime) -> None:
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


# --- deep linking ------------------------------------------------------------------------


def deep_link_choices() -> list[tuple[str, list[Module]]]:
    """Every course's title and modules, for the instructor to pick from."""
    return [(course.title, list(course.modules)) for course in courses.list_courses()]


def deep_link_response(
    actor: User,
    request_info: Mapping[str, Any],
    module_ids: list[int],
    launch_url: str,
    now: datetime,
) -> tuple[str, str]:
    """The signed LtiDeepLinkingResponse for the chosen modules, and where to post it."""
    if not module_ids:
        raise InvalidInput("Choose at least one module to place in the course.")
    if len(module_ids) > 1 and not request_info.get("accept_multiple", True):
        raise InvalidInput("This LMS accepts only one item here: choose a single module.")
    platform = get_platform(int(request_info["platform_id"]))
    by_id = {m.id: m for _title, modules in deep_link_choices() for m in modules}
    unknown = [i for i in module_ids if i not in by_id]
    if unknown:
        raise InvalidInput("Some of the chosen modules do not exist.")
    chosen = [by_id[i] for i in module_ids]
    items = [
        {
            "type": "ltiResourceLink",
            "title": module.title,
            "url": launch_url,
            "custom": {"module_code": module.code},
            "lineItem": {
                "scoreMaximum": 100,
                "label": module.title,
                "resourceId": module.code,
            },
        }
        for module in chosen
    ]
    claims: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": [platform.issuer],
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=10)).timestamp()),
        "nonce": secrets.token_urlsafe(16),
        rules.CLAIM_DEPLOYMENT_ID: request_info["deployment_id"],
        rules.CLAIM_MESSAGE_TYPE: rules.DEEP_LINKING_RESPONSE,
        rules.CLAIM_VERSION: rules.LTI_VERSION,
        rules.CLAIM_DL_CONTENT_ITEMS: items,
    }
    if request_info.get("data") is not None:
        claims[rules.CLAIM_DL_DATA] = request_info["data"]
    token = keys.sign(claims, now)
    audit.record_event(
        "lti.deep_link_returned",
        actor=actor,
        now=now,
        target_type="lti_platform",
        target_id=platform.id,
        details={"modules": [m.code for m in chosen]},
    )
    return str(request_info["return_url"]), token


# --- assignment and grade services -------------------------------------------------------


def on_ledger_appended(entry: LedgerEntry, *, student: User, now: datetime, **_: object) -> None:
    """Queue the student's best score for every platform gradebook column linked to the module."""
    if entry.kind is not LedgerKind.MODULE_COMPLETED or entry.module_id is None:
        return
    targets = db.session.execute(
        select(LtiResourceLink.id, LtiIdentity.subject)
        .join(LtiContext, LtiContext.id == LtiResourceLink.context_id)
        .join(LtiContextMember, LtiContextMember.context_id == LtiContext.id)
        .join(
            LtiIdentity,
            (LtiIdentity.platform_id == LtiContext.platform_id)
            & (LtiIdentity.user_id == LtiContextMember.user_id),
        )
        .where(
            LtiResourceLink.module_id == entry.module_id,
            LtiResourceLink.lineitem_url.is_not(None),
            LtiContextMember.user_id == student.id,
            LtiContextMember.active.is_(True),
        )
    ).all()
    if not targets:
        return
    best = max(
        [c.best_score or 0 for c in ledger.best_completions([student.id], [entry.module_id])]
        + [entry.score or 0]
    )
    for link_id, subject in targets:
        db.session.add(
            LtiScoreOutbox(
                link_id=link_id,
                user_id=student.id,
                subject=subject,
                ledger_entry_id=entry.id,
                score=best,
                status=ScoreStatus.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    db.session.flush()


@dataclass
class SendReport:
    """What one run of the outbox did."""

    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def send_due_scores(
    now: datetime, *, everything: bool = False, limit: int = 200, actor: User | None = None
) -> SendReport:
    """Send the scores whose time has come (or every waiting one); failures wait longer."""
    query = (
        select(LtiScoreOutbox)
        .where(LtiScoreOutbox.status == ScoreStatus.PENDING)
        .options(
            selectinload(LtiScoreOutbox.link)
            .selectinload(LtiResourceLink.context)
            .selectinload(LtiContext.platform)
        )
        .order_by(LtiScoreOutbox.id)
        .limit(limit)
    )
    if not everything:
        query = query.where(LtiScoreOutbox.next_attempt_at <= now)
    rows = list(db.session.scalars(query))
    report = SendReport()
    tokens: dict[int, str | platform_api.PlatformError] = {}
    for row in rows:
        platform = row.link.context.platform
        if platform.id not in tokens:
            try:
                tokens[platform.id] = platform_api.access_token(platform, [rules.SCOPE_SCORE], now)
            except platform_api.PlatformError as error:
                tokens[platform.id] = error
        token = tokens[platform.id]
        try:
            if isinstance(token, platform_api.PlatformError):
                raise token
            platform_api.post_score(
                row.link.lineitem_url or "",
                token,
                {
                    "userId": row.subject,
                    "scoreGiven": row.score,
                    "scoreMaximum": 100,
                    "activityProgress": "Completed",
                    "gradingProgress": "FullyGraded",
                    "timestamp": row.created_at.isoformat(),
                },
            )
        except platform_api.PlatformError as error:
            row.attempts += 1
            row.last_error = str(error)[:2000]
            row.next_attempt_at = now + rules.retry_delay(row.attempts)
            report.failed += 1
            report.errors.append(f"score {row.id}: {error}")
        else:
            row.attempts += 1
            row.status = ScoreStatus.SENT
            row.sent_at = now
            row.last_error = None
            report.sent += 1
    db.session.flush()
    if rows:
        audit.record_event(
            "lti.scores_sent",
            actor=actor,
            now=now,
            details={"sent": report.sent, "failed": report.failed},
        )
    return report


@dataclass(frozen=True)
class OutboxView:
    """The scores an admin sees: waiting (with their last error) and recently sent."""

    waiting: list[LtiScoreOutbox]
    sent: list[LtiScoreOutbox]


def score_outbox() -> OutboxView:
    """Every waiting score and the 50 last sent, in a fixed number of queries."""

    def load(status: ScoreStatus, order: Any, limit: int | None) -> list[LtiScoreOutbox]:
        query = (
            select(LtiScoreOutbox)
            .where(LtiScoreOutbox.status == status)
            .options(
                selectinload(LtiScoreOutbox.user),
                selectinload(LtiScoreOutbox.link)
                .selectinload(LtiResourceLink.context)
                .selectinload(LtiContext.platform),
            )
            .order_by(order)
        )
        if limit:
            query = query.limit(limit)
        return list(db.session.scalars(query))

    return OutboxView(
        waiting=load(ScoreStatus.PENDING, LtiScoreOutbox.id, None),
        sent=load(ScoreStatus.SENT, LtiScoreOutbox.id.desc(), 50),
    )


# --- names and role provisioning ---------------------------------------------------------


def contexts_for(actor: User) -> list[LtiContext]:
    """The platform courses the actor launched from as an instructor (every one for an admin)."""
    query = select(LtiContext).options(selectinload(LtiContext.platform)).order_by(LtiContext.id)
    if not actor.is_admin:
        query = query.join(LtiContextMember).where(
            LtiContextMember.user_id == actor.id, LtiContextMember.is_instructor.is_(True)
        )
    return list(db.session.scalars(query))


def get_context_for(actor: User, context_id: int) -> LtiContext:
    """A platform course the actor teaches (any, for an admin); ``NotFound`` otherwise."""
    for context in contexts_for(actor):
        if context.id == context_id:
            return context
    raise NotFound("There is no such LMS course among yours.")


def link_cohort(actor: User, context: LtiContext, cohort_id: int, now: datetime) -> Cohort:
    """Make a cohort the actor teaches the one the platform course's roster feeds."""
    cohort = enrollment.get_cohort_for(actor, cohort_id)
    context.cohort_id = cohort.id
    db.session.flush()
    audit.record_event(
        "lti.context_linked",
        actor=actor,
        now=now,
        target_type="lti_context",
        target_id=context.id,
        details={"cohort_id": cohort.id},
    )
    return cohort


@dataclass
class SyncReport:
    """What a roster sync changed, by name."""

    added: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)


def sync_roster(actor: User, context: LtiContext, now: datetime) -> SyncReport:
    """Enrol the platform course's active learners in the linked cohort; withdraw dropped ones.

    Only students this platform course brought in are ever withdrawn: students enrolled by
    hand stay. Withdrawal keeps the enrolment row (status ``withdrawn``) and audits it."""
    if context.cohort_id is None:
        raise InvalidInput("Choose the cohort this LMS course feeds before syncing its roster.")
    if not context.memberships_url:
        raise InvalidInput(
            "The LMS has not offered this course's roster (Names and Role Provisioning) to the "
            "tool. Turn the service on in the tool's settings in the LMS and launch again."
        )
    cohort = enrollment.get_cohort_for(actor, context.cohort_id)
    platform = context.platform
    try:
        token = platform_api.access_token(platform, [rules.SCOPE_MEMBERSHIPS], now)
        members = platform_api.roster(context.memberships_url, token)
    except platform_api.PlatformError as error:
        raise InvalidInput(f"The roster could not be read from {platform.name}. {error}") from error

    identities = {
        i.subject: i
        for i in db.session.scalars(
            select(LtiIdentity)
            .where(LtiIdentity.platform_id == platform.id)
            .options(selectinload(LtiIdentity.user))
        )
    }
    report = SyncReport()
    present: set[int] = set()
    for member in members:
        subject = str(member.get("user_id") or "")
        if (
            not subject
            or not rules.is_learner(member.get("roles") or [])
            or member.get("status", "Active") != "Active"
        ):
            continue
        name = rules.display_name(member)
        # Each refusal below is raised before its use case writes anything.
        try:
            student = _roster_student(platform, member, identities, actor, now)
            present.add(student.id)
            _ensure_member(context, student, is_instructor=False, now=now)
            enrollment.enroll_by_email(actor, cohort, student.email, now)
        except Conflict:
            report.unchanged += 1
        except DomainError as error:
            report.skipped.append(f"{name}: {error.message}")
        else:
            report.added.append(name)

    dropped = db.session.scalars(
        select(LtiContextMember)
        .where(
            LtiContextMember.context_id == context.id,
            LtiContextMember.is_instructor.is_(False),
            LtiContextMember.active.is_(True),
        )
        .order_by(LtiContextMember.id)
    ).all()
    users = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(
                User.id.in_([m.user_id for m in dropped if m.user_id not in present])
            )
        )
    }
    for member in dropped:
        if member.user_id in present:
            continue
        member.active = False
        student = users[member.user_id]
        try:
            enrollment.withdraw_student(actor, cohort, student, now)
        except Conflict:
            continue
        report.withdrawn.append(student.full_name)
    context.last_synced_at = now
    db.session.flush()
    audit.record_event(
        "lti.roster_synced",
        actor=actor,
        now=now,
        target_type="lti_context",
        target_id=context.id,
        details={
            "cohort_id": cohort.id,
            "added": len(report.added),
            "withdrawn": len(report.withdrawn),
            "unchanged": report.unchanged,
            "skipped": len(report.skipped),
        },
    )
    return report


def _roster_student(
    platform: LtiPlatform,
    member: Mapping[str, Any],
    identities: dict[str, LtiIdentity],
    actor: User,
    now: datetime,
) -> User:
    subject = str(member["user_id"])
    if subject in identities:
        return identities[subject].user
    email = member.get("email") if isinstance(member.get("email"), str) else None
    if not email:
        raise InvalidInput("the LMS did not share an email address.")
    user = auth.find_user_by_email(email)
    if user is None:
        user = auth.create_user(
            email=email,
            full_name=rules.display_name(member),
            role=Role.STUDENT,
            password=None,
            actor=actor,
            now=now,
        )
    identity = LtiIdentity(platform_id=platform.id, subject=subject, user=user, created_at=now)
    db.session.add(identity)
    db.session.flush()
    identities[subject] = identity
    return user
