"""Password reset by an emailed one-time link: stored hashed, used once, short-lived."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from lms.auth import one_time, service
from lms.auth.models import User
from lms.db import UTCDateTime
from lms.errors import Conflict, InvalidInput
from lms.extensions import db
from lms.ledger import audit
from lms.mail import send_mail

RESET_LIFETIME = timedelta(hours=1)
# An account an admin creates has no password yet: its link to set one lives as long as an
# invitation to a cohort does.
WELCOME_LIFETIME = timedelta(days=7)


class PasswordResetToken(db.Model):
    """A reset link sent by email; only the SHA-256 of its secret is kept."""

    __tablename__ = "password_reset_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


def request_reset(email: str, now: datetime, link_for) -> str | None:
    """Email a one-time reset link to an active account with this email.

    Answers the same whether or not the account exists (the caller shows one message);
    returns the secret for the caller's tests only. ``link_for(token)`` builds the URL."""
    user = service.find_user_by_email(email)
    if user is None or not user.active:
        audit.record_event(
            "password.reset_requested",
            actor=None,
            now=now,
            target_type="user",
            details={"email": email.strip().lower()[:254], "known": False},
        )
        return None
    token = _new_token(user, now, RESET_LIFETIME)
    audit.record_event(
        "password.reset_requested", actor=None, now=now, target_type="user", target_id=user.id
    )
    _mail_reset(user, link_for(token), "Someone (we hope you) asked", now)
    return token


def _new_token(user: User, now: datetime, lifetime: timedelta) -> str:
    token = one_time.new_secret()
    db.session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=one_time.hash_secret(token),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    db.session.flush()
    return token


def _mail_reset(user: User, link: str, who_asked: str, now: datetime) -> None:
    minutes = int(RESET_LIFETIME.total_seconds() // 60)
    send_mail(
        user.email,
        "Reset your password",
        f"Hello {user.full_name},\n\n{who_asked} to reset the password of your "
        f"account. Open this link within {minutes} minutes to choose a new one; it works once:"
        f"\n\n{link}\n\nIf you did not ask for this, ignore this email: your "
        "password stays as it is.\n",
        kind="password_reset",
        now=now,
    )


def send_reset_for(actor: User, user: User, now: datetime, link_for) -> str:
    """An admin mails ``user`` a one-time reset link (audited); returns the secret for the
    caller's tests only. ``link_for(token)`` builds the URL from the public base URL."""
    if not user.active:
        raise Conflict(
            f"The account of {user.full_name} is disabled: enable it before sending a reset link."
        )
    token = _new_token(user, now, RESET_LIFETIME)
    audit.record_event(
        "password.reset_sent", actor=actor, now=now, target_type="user", target_id=user.id
    )
    _mail_reset(user, link_for(token), "Your school's administrator asked", now)
    return token


def send_welcome(actor: User, user: User, now: datetime, link_for) -> str:
    """Mail a new account (made by an admin, no password yet) a one-time link to set its
    password, valid for seven days (audited); returns the secret for the caller's tests only."""
    token = _new_token(user, now, WELCOME_LIFETIME)
    audit.record_event(
        "password.setup_link_sent", actor=actor, now=now, target_type="user", target_id=user.id
    )
    days = WELCOME_LIFETIME.days
    send_mail(
        user.email,
        "Your account: set your password",
        f"Hello {user.full_name},\n\nYour school has made you an account "
        f"({user.role.value}). Open this link within {days} days to choose your password; "
        f"it works once:\n\n{link_for(token)}\n\nYou then log in with this email address "
        "and that password.\n",
        kind="invitation",
        now=now,
    )
    return token


def valid_token(token: str, now: datetime) -> PasswordResetToken | None:
    """The unused, unexpired reset token with this secret, or None."""
    row = db.session.scalar(
        select(PasswordResetToken).where(
            PasswordResetToken.token_hash == one_time.hash_secret(token)
        )
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    return row


def reset_password(token: str, new: str, repeat: str, now: datetime) -> User:
    """Set a new password with a reset link; the link and all others of the user are spent."""
    row = valid_token(token, now)
    if row is None:
        raise InvalidInput("This reset link has expired or was already used. Ask for a new one.")
    user = db.session.get(User, row.user_id)
    if user is None or not user.active:
        raise InvalidInput("This reset link has expired or was already used. Ask for a new one.")
    if new != repeat:
        raise InvalidInput("The two new passwords differ.", field="repeat")
    # Spend every open link of the user in one statement; a link used at the same moment by
    # another request has already been spent, so this one is refused.
    spent = db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
        .returning(PasswordResetToken.id)
    ).scalars()
    if row.id not in set(spent):
        raise InvalidInput("This reset link has expired or was already used. Ask for a new one.")
    db.session.expire(row)
    service.set_password(user, new, actor=user, now=now, action="password.reset")
    return user
