"""Personal access tokens for the JSON API: shown once, stored hashed, scoped, revocable."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload

from lms.auth import one_time
from lms.auth.models import User
from lms.db import UTCDateTime, enum_column
from lms.errors import InvalidInput, NotFound, PermissionDenied, Problem
from lms.extensions import db
from lms.ledger import audit

TOKEN_PREFIX = "lms_pat_"  # noqa: S105 - a public prefix, not a secret
MAX_LIFETIME_DAYS = 366
# Writing last_used_at on every call would turn each read into a write; a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenScope(StrEnum):
    """What a token may do: read only; read and write records (completions, certificates);
    or read and write the school's content (courses, modules, lessons)."""

    READ = "read"
    WRITE = "write"
    CONTENT_WRITE = "content:write"


class ApiToken(db.Model):
    """A personal access token; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # The first characters, so a person can tell their tokens apart.
    display_prefix: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[TokenScope] = mapped_column(enum_column(TokenScope, "token_scope"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="raise")

    def is_usable(self, now: datetime) -> bool:
        """Neither revoked nor expired."""
        return self.revoked_at is None and now < self.expires_at

    def state(self, now: datetime) -> str:
        """active / expired / revoked, for the tokens page."""
        if self.revoked_at is not None:
            return "revoked"
        return "active" if now < self.expires_at else "expired"


def create_token(
    actor: User, *, name: str, scope: TokenScope, days: int, now: datetime
) -> tuple[ApiToken, str]:
    """Create a token for the actor; returns the row and the secret, which is never stored."""
    if not actor.is_admin:
        raise PermissionDenied("Only admins create API tokens.")
    name = name.strip()
    problems = []
    if not name:
        problems.append(Problem("Give the token a name that says what uses it.", "name"))
    elif len(name) > 100:
        problems.append(Problem("Keep the name to 100 characters.", "name"))
    if not 1 <= days <= MAX_LIFETIME_DAYS:
        problems.append(Problem(f"A token lives from 1 to {MAX_LIFETIME_DAYS} days.", "days"))
    if problems:
        raise InvalidInput(problems=problems)
    secret = TOKEN_PREFIX + one_time.new_secret()
    token = ApiToken(
        user_id=actor.id,
        name=name,
        display_prefix=secret[: len(TOKEN_PREFIX) + 4],
        token_hash=one_time.hash_secret(secret),
        scope=scope,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(token)
    db.session.flush()
    audit.record_event(
        "api_token.created",
        actor=actor,
        now=now,
        target_type="api_token",
        target_id=token.id,
        details={"name": name, "scope": scope.value, "expires_at": token.expires_at.isoformat()},
    )
    return token, secret


def tokens_of(user: User) -> list[ApiToken]:
    """A user's tokens, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_token(actor: User, token_id: int, now: datetime) -> ApiToken:
    """Revoke one of the actor's tokens; it stops working at once."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.id:
        raise NotFound("There is no such token among yours.")
    if token.revoked_at is None:
        token.revoked_at = now
        db.session.flush()
        audit.record_event(
            "api_token.revoked",
            actor=actor,
            now=now,
            target_type="api_token",
            target_id=token.id,
            details={"name": token.name},
        )
    return token


def authenticate_token(secret: str, now: datetime) -> ApiToken | None:
    """The usable token with this secret (its user loaded), noting when it was last used."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    digest = one_time.hash_secret(secret)
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == digest).options(selectinload(ApiToken.user))
    )
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    if not token.is_usable(now) or not token.user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.flush()
    return token
