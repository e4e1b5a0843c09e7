"""Invitations: a new student's account is created without a password, and a single-use,
expiring link lets them set one. Only the SHA-256 of the token is stored
(``lms.auth.one_time``, as for reset links and API tokens)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms import links
from lms.auth import one_time
from lms.auth import service as accounts
from lms.auth.models import Role, User
from lms.auth.passwords import hash_password, password_problems
from lms.enrollment.models import Invitation
from lms.errors import Conflict, InvalidInput, NotFound, Problem
from lms.extensions import db
from lms.ledger import audit
from lms.mail import send_mail

INVITATION_DAYS = 7


def invite_student(
    actor: User, email: str, full_name: str, now: datetime, *, send: bool = True
) -> tuple[User, str]:
    """Create a student account without a password and mail an invitation link to it."""
    student = accounts.create_user(
        email=email, full_name=full_name, role=Role.STUDENT, password=None, actor=actor, now=now
    )
    return student, _new_invitation(actor, student, now, send=send)


def resend_invitation(actor: User, student: User, now: datetime) -> User:
    """Send a fresh invitation to a student who has not set a password yet; earlier links
    stop working. The caller has checked that the actor teaches the student."""
    if student.password_hash is not None:
        raise Conflict(f"{student.full_name} has already set a password.")
    for old in db.session.scalars(
        select(Invitation).where(Invitation.user_id == student.id, Invitation.used_at.is_(None))
    ):
        old.expires_at = min(old.expires_at, now)
    _new_invitation(actor, student, now)
    return student


def _new_invitation(actor: User, student: User, now: datetime, *, send: bool = True) -> str:
    token = one_time.new_secret()
    db.session.add(
        Invitation(
            user_id=student.id,
            token_hash=one_time.hash_secret(token),
            created_at=now,
            expires_at=now + timedelta(days=INVITATION_DAYS),
            created_by_id=actor.id,
        )
    )
    db.session.flush()
    audit.record_event(
        "invitation.created",
        actor=actor,
        now=now,
        target_type="user",
        target_id=student.id,
        details={"email": student.email},
    )
    if send:
        _send_invitation(student, token, now)
    return token


def _send_invitation(student: User, token: str, now: datetime) -> None:
    link = links.external_url("enrollment.accept_invitation", token=token)
    send_mail(
        student.email,
        "Your student account: set your password",
        f"Hello {student.full_name},\n\nYour school has created a student account for you. "
        f"Open this link within {INVITATION_DAYS} days to set your password:\n\n{link}\n",
        kind="invitation",
        now=now,
    )


def find_invitation(token: str, now: datetime) -> Invitation:
    """The usable invitation for a token; ``NotFound`` if unknown, used or expired."""
    invitation = db.session.scalar(
        select(Invitation)
        .where(Invitation.token_hash == one_time.hash_secret(token))
        .options(selectinload(Invitation.user))
    )
    if invitation is None or invitation.used_at is not None:
        raise NotFound("This invitation link is not valid, or it was already used.")
    if invitation.expires_at <= now:
        raise NotFound("This invitation link has expired. Ask your instructor for a new one.")
    return invitation


def accept_invitation(token: str, password: str, confirm: str, now: datetime) -> User:
    """Set the invited person's password; the link then stops working."""
    invitation = find_invitation(token, now)
    problems = [Problem(message, "password") for message in password_problems(password)]
    if password != confirm:
        problems.append(Problem("The two passwords do not match.", "confirm"))
    if problems:
        raise InvalidInput(problems=problems)
    user = invitation.user
    user.password_hash = hash_password(password)
    invitation.used_at = now
    db.session.flush()
    audit.record_event(
        "invitation.accepted", actor=user, now=now, target_type="user", target_id=user.id
    )
    return user
