"""What every API endpoint shares: token authentication, JSON errors and signed cursors."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, jsonify, request
from flask_smorest import Blueprint as ApiBlueprint
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.exceptions import HTTPException

from lms.auth import tokens
from lms.auth.models import Role
from lms.db import utcnow
from lms.errors import TITLES, DomainError, protocol_headers
from lms.extensions import csrf, db

View = TypeVar("View", bound=Callable[..., Any])

#: Tokens belong to admins; the API acts as the token's owner within the token's scope.
API_ACCESS = frozenset({Role.ADMIN})


class ApiError(DomainError):
    """An API refusal with any status, e.g. 401 for a missing token."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status
        self.headers = headers or {}


def error_json(status: int, message: str, fields: Any = None, headers: dict | None = None):
    """The one shape of every API error."""
    body: dict[str, Any] = {
        "status": status,
        "title": TITLES.get(status, "Error"),
        "message": message,
    }
    if fields:
        body["fields"] = fields
    return jsonify(error=body), status, headers or {}


def new_blueprint(name: str, description: str) -> ApiBlueprint:
    """A flask-smorest blueprint with JSON errors, exempt from CSRF (it takes no cookies);
    its requests commit once, like every other (``lms.transactions``)."""
    blp = ApiBlueprint(name, name, description=description)
    csrf.exempt(blp)

    @blp.errorhandler(DomainError)
    def domain_error(error: DomainError):
        # Each problem under its field, as the HTML forms show them beside theirs.
        fields: dict[str, list[str]] = {}
        for problem in error.problems:
            if problem.field:
                fields.setdefault(problem.field, []).append(problem.message)
        return error_json(
            error.status_code,
            error.message,
            fields or None,
            headers=getattr(error, "headers", None),
        )

    @blp.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        data = getattr(error, "data", None) or {}
        fields = data.get("messages") or data.get("errors")
        status = error.code or 500
        message = "The request does not have the expected shape." if fields else error.description
        body, status, headers = error_json(status, message or TITLES.get(status, "Error"), fields)
        return body, status, {**dict(protocol_headers(error)), **headers}

    return blp


def token_required(scope: tokens.TokenScope = tokens.TokenScope.READ) -> Callable[[View], View]:
    """Let in a request with a usable personal access token of the scope (write covers read)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
            challenge = {"WWW-Authenticate": 'Bearer realm="lms-api"'}
            if scheme.lower() != "bearer" or not secret.strip():
                raise ApiError(
                    401, "Send a personal access token: Authorization: Bearer <token>.", challenge
                )
            token = tokens.authenticate_token(secret.strip(), utcnow())
            if token is None:
                raise ApiError(401, "The token is unknown, expired or revoked.", challenge)
            if token.user.role not in API_ACCESS:
                raise ApiError(403, "This token's owner may not use the API.")
            if scope is not tokens.TokenScope.READ and token.scope is not scope:
                held = "read-only" if token.scope is tokens.TokenScope.READ else token.scope.value
                raise ApiError(
                    403,
                    f"This token is {held}; this call needs a token of the {scope.value} scope.",
                )
            g.api_token = token
            g.api_user = token.user
            return view(*args, **kwargs)

        guarded.access_rule = API_ACCESS  # type: ignore[attr-defined]
        # A token in use is marked as used (at most once a minute), so admins see stale ones.
        guarded.writes_on_get = "notes when the API token was last used"  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorator


def _serializer(kind: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"api-cursor:{kind}")


def fingerprint(query: dict[str, Any]) -> str:
    """A short hash of the filters, so a cursor cannot be reused with other filters."""
    stable = json.dumps(query, sort_keys=True, default=str)
    return hashlib.sha256(stable.encode()).hexdigest()[:16]


def make_cursor(kind: str, after_id: int, query: dict[str, Any]) -> str:
    """A signed, opaque cursor pointing after ``after_id``."""
    return _serializer(kind).dumps({"after": after_id, "q": fingerprint(query)})


def read_cursor(kind: str, cursor: str | None, query: dict[str, Any]) -> int | None:
    """The id a cursor points after; 400 for a tampered cursor or one made for other filters."""
    if not cursor:
        return None
    try:
        data = _serializer(kind).loads(cursor)
    except BadSignature:
        raise ApiError(400, "The cursor is not one this API gave out.") from None
    if not isinstance(data, dict) or not isinstance(data.get("after"), int):
        raise ApiError(400, "The cursor is not one this API gave out.")
    if data.get("q") != fingerprint(query):
        raise ApiError(400, "The cursor belongs to a listing with other filters.")
    return data["after"]
