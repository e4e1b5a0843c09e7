"""An optional second factor: time-based one-time codes (TOTP, RFC 6238) with pyotp.

A user enrols by scanning a QR code (drawn here as SVG with segno) and typing one code; from
then on, login asks for a code after the password. With ``REQUIRE_ADMIN_TOTP`` on, an admin
without a second factor is sent to enrol before anything else. A code is accepted once: the
time step of the last code used is kept, so a code seen over a shoulder cannot be replayed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
from datetime import datetime

import pyotp
import segno
from flask import current_app
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column

from lms.auth.models import Role, User
from lms.auth.passwords import verify_password
from lms.db import UTCDateTime
from lms.errors import Conflict, InvalidInput
from lms.extensions import db
from lms.ledger import audit

ISSUER = "Certification readiness LMS"
STEP_SECONDS = 30


class TotpCredential(db.Model):
    """A user's enrolled authenticator: the shared secret and the last time step used."""

    __tablename__ = "totp_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    secret: Mapped[str] = mapped_column(String(64))
    enabled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_step: Mapped[int] = mapped_column(default=0)


def new_secret() -> str:
    """A fresh random base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def setup_nonce() -> str:
    """A random nonce for a set-up in progress: the session holds it, never the secret."""
    return secrets.token_urlsafe(16)


def pending_secret(user: User, nonce: str, server_key: str) -> str:
    """The secret of a set-up in progress, derived on the server from its nonce.

    The session cookie is signed, not encrypted: a secret kept there could be read by anyone
    holding the cookie. Only the nonce goes there; the secret is an HMAC of it under the
    server's key (and the user's id), so it is the same on every page of the set-up and
    unknown without the key. Once enrolled, the secret is stored in ``totp_credential``."""
    digest = hmac.new(
        server_key.encode(), f"totp-setup:{user.id}:{nonce}".encode(), hashlib.sha256
    ).digest()
    return base64.b32encode(digest[:20]).decode()  # 160 bits, as new_secret


def provisioning_uri(user: User, secret: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    issuer = current_app.config.get("SCHOOL_NAME") or ISSUER
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_code_data_uri(uri: str) -> str:
    """The QR code of ``uri`` as an SVG ``data:`` URI (shown in an ``<img>``; no script)."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, border=4, xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def credential_of(user: User) -> TotpCredential | None:
    """The user's enrolled second factor, if any."""
    return db.session.scalar(select(TotpCredential).where(TotpCredential.user_id == user.id))


def is_required(user: User) -> bool:
    """True when the school requires a second factor of this user."""
    return user.role is Role.ADMIN and bool(current_app.config.get("REQUIRE_ADMIN_TOTP"))


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step ``code`` belongs to (this one, or one either side), or None."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in (current, current - 1, current + 1):
        if pyotp.utils.strings_equal(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def enrol(user: User, secret: str, code: str, now: datetime) -> TotpCredential:
    """Turn the second factor on once the user proves their app has ``secret``."""
    if credential_of(user) is not None:
        raise Conflict("A second factor is already set up for this account.")
    step = matching_step(secret, code, now)
    if step is None:
        raise InvalidInput(
            "That code is not right. Type the 6 digits your app shows now.", field="code"
        )
    credential = TotpCredential(user_id=user.id, secret=secret, enabled_at=now, last_used_step=step)
    db.session.add(credential)
    db.session.flush()
    audit.record_event("totp.enabled", actor=user, now=now, target_type="user", target_id=user.id)
    return credential


def verify_login_code(user: User, code: str, now: datetime) -> bool:
    """True (once per code) when ``code`` is the user's current one; every try is audited."""
    credential = credential_of(user)
    step = matching_step(credential.secret, code, now) if credential else None
    if credential is None or step is None or step <= credential.last_used_step:
        audit.record_event(
            "totp.failed", actor=None, now=now, target_type="user", target_id=user.id
        )
        return False
    credential.last_used_step = step
    db.session.flush()
    return True


def disable(user: User, password: str, now: datetime) -> None:
    """Turn the second factor off, after checking the password; refused where required."""
    credential = credential_of(user)
    if credential is None:
        raise Conflict("No second factor is set up for this account.")
    if is_required(user):
        raise Conflict("The school requires a second factor for admins: it cannot be turned off.")
    if not verify_password(user.password_hash, password):
        raise InvalidInput("The password is not right.", field="password")
    db.session.delete(credential)
    db.session.flush()
    audit.record_event("totp.disabled", actor=user, now=now, target_type="user", target_id=user.id)


def remove_for(actor: User, user: User, now: datetime) -> bool:
    """An admin removes a user's second factor (a lost phone); False when there was none."""
    credential = credential_of(user)
    if credential is None:
        return False
    db.session.delete(credential)
    db.session.flush()
    audit.record_event(
        "totp.removed_by_admin", actor=actor, now=now, target_type="user", target_id=user.id
    )
    return True


def users_with_totp(user_ids: list[int]) -> set[int]:
    """Which of these users have a second factor (one query)."""
    if not user_ids:
        return set()
    return set(
        db.session.scalars(
            select(TotpCredential.user_id).where(TotpCredential.user_id.in_(user_ids))
        )
    )
