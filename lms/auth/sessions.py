"""Login sessions: cookie settings, a fresh session at login, idle and absolute timeouts.

The session is Flask's signed cookie. It carries the user's session key ("id.epoch", see
``User.get_id``), a random session id made at login, the login time and the last time it was
seen. Bumping ``User.session_epoch`` ends every session of the user at once, copies of old
cookies included; the two times end a session that was idle or open for too long.
"""

from __future__ import annotations

import logging
import os
import secrets
from datetime import datetime

from flask import Flask, current_app, flash, session
from flask_login import current_user, login_user, logout_user

from lms.auth.models import User
from lms.auth.service import load_session_user
from lms.db import utcnow

log = logging.getLogger(__name__)

LOGIN_AT = "login_at"
SEEN_AT = "seen_at"
SESSION_ID = "sid"

DEFAULT_IDLE_TIMEOUT = 30 * 60  # seconds
DEFAULT_ABSOLUTE_LIFETIME = 12 * 60 * 60


def now() -> datetime:
    """The clock sessions read; tests replace it instead of sleeping."""
    return utcnow()


def is_development(app: Flask) -> bool:
    """True when the app runs for a developer: ``LMS_ENVIRONMENT=development``, debug mode,
    or started by the ``flask`` command (``flask run``) without an explicit environment."""
    environment = app.config.get("ENVIRONMENT")
    if environment:
        return str(environment).lower() == "development"
    return app.debug or os.environ.get("FLASK_RUN_FROM_CLI") == "true"


def serves_https(app: Flask) -> bool:
    """True when the app is served over HTTPS (``PREFERRED_URL_SCHEME=https``)."""
    return str(app.config.get("PREFERRED_URL_SCHEME", "http")).lower() == "https"


def configure_session_cookies(app: Flask) -> None:
    """HttpOnly and SameSite=Lax always; Secure outside development; ``__Host-`` on HTTPS."""
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    secure = serves_https(app) or not is_development(app)
    app.config["SESSION_COOKIE_SECURE"] = secure
    app.config["REMEMBER_COOKIE_SECURE"] = secure
    app.config.setdefault("SESSION_IDLE_TIMEOUT", DEFAULT_IDLE_TIMEOUT)
    app.config.setdefault("SESSION_ABSOLUTE_LIFETIME", DEFAULT_ABSOLUTE_LIFETIME)
    if serves_https(app):
        # The browser only accepts a __Host- cookie that is Secure, has Path=/ and no Domain,
        # so no other host or path can set or shadow it.
        app.config["SESSION_COOKIE_NAME"] = "__Host-session"
        app.config["SESSION_COOKIE_PATH"] = "/"
        app.config["SESSION_COOKIE_DOMAIN"] = None
        app.config["SESSION_COOKIE_SECURE"] = True
    app.before_request(enforce_session_lifetime)


def start_session(user: User) -> None:
    """Log ``user`` in on a brand-new session: nothing from before carries over."""
    session.clear()
    login_user(user)
    stamp = now().timestamp()
    session[SESSION_ID] = secrets.token_urlsafe(16)
    session[LOGIN_AT] = stamp
    session[SEEN_AT] = stamp
    session.permanent = False


def end_session() -> None:
    """Forget the current session in this browser."""
    logout_user()
    session.clear()


def session_expiry_reason(login_at: float | None, seen_at: float | None, at: float) -> str | None:
    """Why a session with these times has ended at ``at``, or None while it is valid."""
    config = current_app.config
    if login_at is None or seen_at is None:
        return "no login time"
    if at - login_at > float(config["SESSION_ABSOLUTE_LIFETIME"]):
        return "absolute lifetime reached"
    if at - seen_at > float(config["SESSION_IDLE_TIMEOUT"]):
        return "idle timeout"
    return None


def enforce_session_lifetime() -> None:
    """End a logged-in session that was idle or open for too long; else note it was seen."""
    if "_user_id" not in session:
        return
    at = now().timestamp()
    reason = session_expiry_reason(session.get(LOGIN_AT), session.get(SEEN_AT), at)
    if reason is not None:
        log.info("session ended: %s (user key %s)", reason, session.get("_user_id"))
        end_session()
        flash("Your session has ended. Please log in again.", "info")
        return
    if current_user.is_authenticated:
        valid_after = current_user.sessions_valid_after
        if valid_after is not None and session.get(LOGIN_AT, 0) < valid_after.timestamp():
            log.info(
                "session ended: it began before a restore (user key %s)", current_user.get_id()
            )
            end_session()
            flash("The school restored its records from a backup. Please log in again.", "info")
            return
        session[SEEN_AT] = at


SECOND_FACTOR_USER = "mfa_user"
SECOND_FACTOR_AT = "mfa_at"
SECOND_FACTOR_WINDOW = 5 * 60  # seconds to type the code after the password
MUST_ENROL = "must_enrol_totp"


def begin_second_factor(user: User) -> None:
    """The password was right; remember (in a fresh session) who still owes a code."""
    session.clear()
    session[SECOND_FACTOR_USER] = user.get_id()
    session[SECOND_FACTOR_AT] = now().timestamp()


def second_factor_user() -> User | None:
    """The user who gave the right password in the last few minutes and owes a code."""
    key, at = session.get(SECOND_FACTOR_USER), session.get(SECOND_FACTOR_AT)
    if not key or at is None or now().timestamp() - at > SECOND_FACTOR_WINDOW:
        return None
    return load_session_user(key)
