"""Security settings applied to the whole app: headers, rate limits, session cookies, logs.

``init_app(app)`` is called once by ``create_app``. It adds:

- response headers: a strict Content-Security-Policy (no inline script or style),
  X-Content-Type-Options, Referrer-Policy, X-Frame-Options, and HSTS outside development;
- rate limits (Flask-Limiter; in memory, or Redis when ``LMS_REDIS_URL`` is set) on login,
  on the public certificate check and on the calendar feed, answered by a clear 429 page;
- session cookie settings and the idle and absolute session timeouts;
- JSON-lines logging, and a log line for every denied request (403 or 404 to a logged-in
  user, 401 to a visitor).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, request, session
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from lms.auth import one_time, sessions
from lms.csp import CONTENT_SECURITY_POLICY
from lms.errors import error_response

log = logging.getLogger(__name__)


HSTS = "max-age=31536000; includeSubDomains"


def login_account_key() -> str:
    """The rate-limit key of a login attempt: the account's email as typed, lower case."""
    return "login:" + (request.form.get("email") or "").strip().lower()[:254]


def reset_account_key() -> str:
    """The rate-limit key of a reset request: the email it is for."""
    return "reset:" + (request.form.get("email") or "").strip().lower()[:254]


def second_factor_account_key() -> str:
    """The rate-limit key of a second-factor code: the account that owes it."""
    key = str(session.get(sessions.SECOND_FACTOR_USER) or "")
    return "code:" + key.partition(".")[0]


def _failed_login(response: Response) -> bool:
    return response.status_code == 401


def _limit(name: str):
    return lambda: current_app.config[name]


def init_app(app: Flask) -> None:
    """Install headers, rate limits, session rules, JSON logs and the 413/429 pages."""
    app.config.setdefault("ENVIRONMENT", None)
    app.config.setdefault("LOGIN_RATE_LIMIT_IP", "20 per minute; 100 per hour")
    app.config.setdefault("LOGIN_RATE_LIMIT_ACCOUNT", "5 per minute; 30 per hour")
    app.config.setdefault("VERIFY_RATE_LIMIT", "30 per minute; 300 per hour")
    app.config.setdefault("RESET_RATE_LIMIT", "5 per minute; 20 per hour")
    # Join codes are short enough to guess: guesses are limited per address and per account.
    app.config.setdefault("JOIN_RATE_LIMIT", "20 per minute; 100 per hour")
    # The LTI login is anonymous and stores a state row: limited per address.
    app.config.setdefault("LTI_LOGIN_RATE_LIMIT", "30 per minute; 600 per hour")
    # The calendar feed is fetched without a login by calendar programs; Google's and
    # Microsoft's fetch every subscriber's feed from a few addresses, so the per-address limit
    # is generous and each feed has its own.
    app.config.setdefault("CALENDAR_RATE_LIMIT_IP", "120 per minute; 3000 per hour")
    app.config.setdefault("CALENDAR_RATE_LIMIT_FEED", "10 per minute; 60 per hour")
    # The code check answers as a student types: generous, per account.
    app.config.setdefault("CODE_CHECK_RATE_LIMIT", "120 per minute; 3000 per hour")
    redis_url = app.config.get("REDIS_URL")
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    _check_shared_limits(app)
    # No X-RateLimit-* headers on answered requests: each costs a second round trip to Redis
    # (the window's state, read after the hit), a fifth of a kept verification answer. A 429
    # still says when to come back (``too_many_requests``).
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    # If Redis goes away, keep limiting in this process's memory rather than failing logins.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    configure_logging(app)
    sessions.configure_session_cookies(app)
    limiter = Limiter(key_func=get_remote_address, default_limits=[], app=app)
    # The limited views hold the limiter only weakly; a disabled limiter (RATELIMIT_ENABLED
    # off) registers nothing with the app, so without this reference it was collected and
    # every limited page answered 500.
    app.extensions["lms.limiter"] = limiter
    _apply_rate_limits(app, limiter)
    app.before_request(refuse_nul_characters)
    app.after_request(add_security_headers)
    app.after_request(log_denials)
    app.register_error_handler(RateLimitExceeded, too_many_requests)
    app.register_error_handler(RequestEntityTooLarge, too_large)


class LimitsNotShared(RuntimeError):
    """Production was started with rate limits each worker counts alone."""


def _check_shared_limits(app: Flask) -> None:
    """In production, refuse rate limits kept in each process's memory (gunicorn's workers
    would each count apart: four workers allowed 18 password guesses, not 5) unless the
    operator says one process is all there is (``LMS_RATELIMIT_PER_PROCESS=true``)."""
    production = not app.testing and not sessions.is_development(app)
    in_memory = str(app.config["RATELIMIT_STORAGE_URI"]).startswith("memory://")
    enabled = app.config.get("RATELIMIT_ENABLED", True)
    if production and enabled and in_memory and not app.config.get("RATELIMIT_PER_PROCESS"):
        raise LimitsNotShared(
            "Rate limits would be counted by each worker alone. Set LMS_REDIS_URL to a Redis "
            "every worker and host shares, or LMS_RATELIMIT_PER_PROCESS=true if the app runs "
            "as a single process."
        )


def _user_key() -> str:
    """The rate-limit key of a logged-in person: their account."""
    return "user:" + str(current_user.get_id() if current_user.is_authenticated else "anonymous")


def calendar_feed_key() -> str:
    """The rate-limit key of a calendar feed: the feed's address (its token hashed, so the
    token itself is never a key in Redis)."""
    return "calendar:" + one_time.hash_secret(request.path)


def _apply_rate_limits(app: Flask, limiter: Limiter) -> None:
    """Limits keyed by endpoint, so views owned by other domains need no decorator."""
    limits = {
        "auth.login": [
            # Failed logins per address and per account; a success costs nothing.
            {"limit_value": _limit("LOGIN_RATE_LIMIT_IP"), "deduct_when": _failed_login},
            {
                "limit_value": _limit("LOGIN_RATE_LIMIT_ACCOUNT"),
                "key_func": login_account_key,
                "deduct_when": _failed_login,
            },
        ],
        "account.login_code": [
            {"limit_value": _limit("LOGIN_RATE_LIMIT_IP"), "deduct_when": _failed_login},
            {
                "limit_value": _limit("LOGIN_RATE_LIMIT_ACCOUNT"),
                "key_func": second_factor_account_key,
                "deduct_when": _failed_login,
            },
        ],
        "credentials.check": [{"limit_value": _limit("VERIFY_RATE_LIMIT")}],
        "credentials.verify": [{"limit_value": _limit("VERIFY_RATE_LIMIT")}],
        "credentials.verify_json": [{"limit_value": _limit("VERIFY_RATE_LIMIT")}],
        "credentials.certificate_pdf": [{"limit_value": _limit("VERIFY_RATE_LIMIT")}],
        "credentials.credential_jwt": [{"limit_value": _limit("VERIFY_RATE_LIMIT")}],
        "credentials.status_list": [{"limit_value": _limit("VERIFY_RATE_LIMIT")}],
        "enrollment.join_code": [
            {"limit_value": _limit("JOIN_RATE_LIMIT")},
            {"limit_value": _limit("JOIN_RATE_LIMIT"), "key_func": _user_key},
        ],
        "codes.check_code": [
            {"limit_value": _limit("CODE_CHECK_RATE_LIMIT"), "key_func": _user_key}
        ],
        "lti.login": [{"limit_value": _limit("LTI_LOGIN_RATE_LIMIT")}],
        "enrollment.calendar_feed": [
            {"limit_value": _limit("CALENDAR_RATE_LIMIT_IP")},
            {"limit_value": _limit("CALENDAR_RATE_LIMIT_FEED"), "key_func": calendar_feed_key},
        ],
        "account.forgot_password": [
            {"limit_value": _limit("RESET_RATE_LIMIT")},
            # Per email too, so nobody can flood one person's inbox from many addresses.
            {"limit_value": _limit("RESET_RATE_LIMIT"), "key_func": reset_account_key},
        ],
    }
    for endpoint, specs in limits.items():
        view = app.view_functions.get(endpoint)
        if view is None:
            continue
        # Forms are limited when posted; pages anyone may probe (a certificate, a join code,
        # the LTI login) on every method.
        methods = ["POST"] if endpoint.startswith(("auth.", "account.")) else None
        for number, spec in enumerate(specs):
            view = limiter.limit(methods=methods, scope=f"{endpoint}.{number}", **spec)(view)
        # The wrapper keeps the view's attributes (its access rule among them).
        app.view_functions[endpoint] = view


def refuse_nul_characters():
    """Answer 400 to a request whose parameters hold a NUL character: no text a person types
    has one, and PostgreSQL cannot store or even compare it (``?actor=%00`` was a 500)."""
    values = [*request.args.values(), *request.form.values(), request.path]
    if request.is_json:
        raw = request.get_data(cache=True)
        values.append(raw.decode("utf-8", "replace").replace("\\u0000", "\x00"))
    if any("\x00" in value for value in values):
        return error_response(400, "The request holds a NUL character, which no field takes.")
    return None


SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)


def add_security_headers(response: Response) -> Response:
    """The headers every response carries, where the view did not set its own."""
    headers = response.headers
    wanted = list(SECURITY_HEADERS)
    if not sessions.is_development(current_app):
        wanted.append(("Strict-Transport-Security", HSTS))
    if "_user_id" in session:
        wanted.append(("Cache-Control", "no-store"))
    # One pass over the response's headers (setdefault reads them all for each name).
    present = {name.lower() for name, _ in headers}
    headers.extend([(name, value) for name, value in wanted if name.lower() not in present])
    return response


def log_denials(response: Response) -> Response:
    """Log every refused request: who asked for what, and the answer."""
    if response.status_code in (401, 403, 404):
        user = current_user if current_user and current_user.is_authenticated else None
        log.warning(
            "access denied",
            extra={
                "event": "access_denied",
                "status": response.status_code,
                "method": request.method,
                "path": request.path,
                "user_id": user.id if user is not None else None,
                "role": user.role.value if user is not None else None,
                "ip": request.remote_addr,
            },
        )
    return response


def too_many_requests(error: RateLimitExceeded):
    """A clear 429 page (or JSON) that says when to try again."""
    response, status = error_response(
        429,
        "Too many attempts in a short time. Wait a minute and try again. "
        "If you forgot your password, use “Forgot your password?” on the login page.",
    )
    if not isinstance(response, Response):
        response = current_app.make_response((response, status))
    response.status_code = 429
    response.headers["Retry-After"] = str(_seconds_until_allowed())
    return response


def _seconds_until_allowed() -> int:
    """When the limit that was hit lets the next request through, in whole seconds from now
    (read from the limiter's store: only a refused request pays for it); a minute when the
    store cannot say."""
    limit = current_app.extensions["lms.limiter"].current_limit
    try:
        return max(1, int(limit.reset_at - time.time())) if limit is not None else 60
    except Exception:  # noqa: BLE001 - the store is away: the page must still be answered
        log.warning("rate limit store unreachable while answering 429", exc_info=True)
        return 60


def too_large(error: RequestEntityTooLarge):
    """A clear 413 page naming the size limit."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return error_response(
        413,
        f"What you sent is too large: the limit is {limit / (1024 * 1024):.0f} MB. "
        "Send a smaller file.",
    )


# --- logging ----------------------------------------------------------------------------

_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


class _JsonHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (test runners swap it); installed once."""

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging(app: Flask) -> None:
    """Send the ``lms`` loggers to stderr as JSON lines (level from ``LMS_LOG_LEVEL``)."""
    logger = logging.getLogger("lms")
    level = str(app.config.get("LOG_LEVEL") or "INFO").upper()
    logger.setLevel(level)
    if not any(isinstance(h, _JsonHandler) for h in logger.handlers):
        handler = _JsonHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
