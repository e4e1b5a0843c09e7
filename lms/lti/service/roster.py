"""Names and role provisioning: sync a platform course roster into a cohort."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.auth import service as auth
from lms.auth.models import Role, User
from lms.enrollment import service as enrollment
from lms.enrollment.models import Cohort
from lms.errors import Conflict, DomainError, InvalidInput, NotFound
from lms.extensions import db
from lms.ledger import audit
from lms.lti import platform_api, rules
from lms.lti.models import (
    LtiContext,
    LtiContextMember,
    LtiIdentity,
    LtiPlatform,
)
from lms.lti.service.launch import ensure_member


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
            ensure_member(context, student, is_instructor=False, now=now)
            # the school's LMS course (a platform an admin registered) vouches for the place
            enrollment.enroll_student(actor, cohort, student, now)
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
        user = identities[subject].user
        if not user.is_student:
            raise InvalidInput("their account here is not a student's.")
        return user
    email = member.get("email") if isinstance(member.get("email"), str) else None
    if not email:
        raise InvalidInput("the LMS did not share an email address.")
    user = auth.find_user_by_email(email)
    if user is not None:
        if not user.is_student:
            raise InvalidInput("their account here is not a student's.")
        # An account that already existed is enrolled, never linked to the platform user by
        # an email the platform asserts: its owner confirms that at their own first launch.
        return user
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
