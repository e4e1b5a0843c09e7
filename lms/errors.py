"""Domain errors raised by services, and the error pages that answer HTML or JSON."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError

from lms.extensions import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request, and the form field it belongs to (None: the form)."""

    message: str
    field: str | None = None


class DomainError(Exception):
    """A use case refused: every problem, each with its field, shown to the user as it is.

    ``DomainError("message", field="name")`` is one problem; ``problems=[...]`` several (a
    rule that checks a whole form returns every problem, not the first)."""

    status_code = 400

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        problems: Iterable[Problem] = (),
    ) -> None:
        listed = tuple(problems)
        if message is not None:
            listed = (Problem(message, field), *listed)
        if not listed:
            raise ValueError("a DomainError needs a message or problems")
        self.problems = listed
        self.message = " ".join(problem.message for problem in listed)
        self.field = listed[0].field
        super().__init__(self.message)


class InvalidInput(DomainError):
    """The request names things that do not fit together (400)."""


class NotAuthenticated(DomainError):
    """The request does not prove who sent it: a launch token that does not verify (401)."""

    status_code = 401


class PermissionDenied(DomainError):
    """The actor may not do this (403)."""

    status_code = 403


class NotFound(DomainError):
    """The object does not exist, or the actor may not know that it does (404)."""

    status_code = 404


class Conflict(DomainError):
    """The action clashes with the current state, e.g. a second issue (409)."""

    status_code = 409


TITLES = {
    400: "Bad request",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    413: "Too large",
    422: "Cannot process",
    429: "Too many requests",
    500: "Something went wrong",
}


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return request.path.startswith("/api/") or best == "application/json"


def error_response(status: int, message: str):
    """Render an error as JSON or as the HTML error page, by the request's Accept header."""
    title = TITLES.get(status, "Error")
    if _wants_json():
        return jsonify(error={"status": status, "title": title, "message": message}), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


def protocol_headers(error: HTTPException) -> list[tuple[str, str]]:
    """The headers an HTTP error carries besides its body (``Allow`` on a 405,
    ``WWW-Authenticate`` on a 401, ``Retry-After``), kept when the app renders its own page."""
    return [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]


def register_error_handlers(app: Flask) -> None:
    """Map domain errors and HTTP errors to pages; never show a stack trace."""

    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        # The request's transaction is rolled back after this response (lms.transactions),
        # unless the view asked to keep what a refusal must leave behind.
        return error_response(error.status_code, error.message)

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError):
        return error_response(
            400,
            "This form has expired or was not sent from this site. Reload the page and try again.",
        )

    @app.errorhandler(SecurityError)
    def handle_untrusted_host(error: SecurityError):
        # No link can be built for a host the app does not serve, so no page either.
        return Response(
            "400 Bad Request: this address is not served here. Use the school's own address.\n",
            status=400,
            mimetype="text/plain",
        )

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        status = error.code or 500
        body, status = error_response(status, error.description or TITLES.get(status, "Error"))
        return body, status, protocol_headers(error)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "An unexpected error occurred. It has been logged.")
