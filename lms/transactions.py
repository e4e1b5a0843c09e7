"""One transaction per request: the one place in the app that commits.

Services write and ``flush()``; views never commit. After a view returns, ``finish_request``
commits when the response is a success or a redirect (status below 400) and rolls back
anything else, so a refused request leaves the database exactly as before. Mail is a row of
the same transaction (``lms.mail``): only once the commit succeeded is it delivered
(``lms.mail.delivery.after_commit``, after the response is written), so a refused request
sends nothing. A request that raised is rolled back by the error handlers and by
Flask-SQLAlchemy's teardown.

GET, HEAD and OPTIONS requests read. The few GET views that must write, each for a stated
reason (a disclosure logged when a transcript is shown, an OIDC login state the LMS asks for
by GET), say so with ``@writes_on_get(reason)``: on SQLite such a request then takes the
write lock at BEGIN, waiting its turn rather than failing with "database is locked" when it
first writes, and ``tests/test_get_writes.py`` holds every other GET route to no writes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy.exc import SQLAlchemyError

from lms.errors import error_response
from lms.extensions import db
from lms.mail import delivery as mail_delivery
from lms.mail import forget_queued

log = logging.getLogger(__name__)

View = TypeVar("View", bound=Callable[..., Any])
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def writes_on_get(reason: str) -> Callable[[View], View]:
    """Mark a view whose GET writes, and why (kept on the view as ``writes_on_get``)."""

    def mark(view: View) -> View:
        view.writes_on_get = reason  # type: ignore[attr-defined]
        return view

    return mark


def request_writes() -> bool:
    """True when the current request may write: not a read, or a GET marked as writing."""
    if not has_request_context():
        return False
    if request.method not in READ_METHODS:
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "writes_on_get", None))


KEEP_WHEN_REFUSED = "lms.keep_when_refused"


def keep_when_refused() -> None:
    """Commit this request's writes even though it answers 400 or more: for what a refusal
    must leave behind (the audit entry of a failed log-in, a one-time code spent)."""
    g.setdefault(KEEP_WHEN_REFUSED, True)


def finish_request(response: Response) -> Response:
    """Commit a successful request's work once; roll back a refused one."""
    if response.status_code >= 400 and not g.get(KEEP_WHEN_REFUSED):
        db.session.rollback()
        forget_queued()
        return response
    try:
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        forget_queued()
        log.exception("commit failed on %s %s", request.method, request.path)
        failed, status = error_response(
            503, "Your change could not be saved just now. Nothing was changed: try again."
        )
        return current_app.make_response((failed, status))
    mail_delivery.after_commit(response)  # the mail it queued goes once the response is out
    return response


def run_apart(work: Callable[[], Any]) -> Any:
    """Run ``work`` in a transaction of its own and commit it: for what happens after the
    response has started (the end of a streamed export), outside the request's transaction."""
    try:
        result = work()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        forget_queued()
        raise
    mail_delivery.after_commit()
    return result


class CloseAfterLastChunk:
    """WSGI middleware for Werkzeug's development server (``flask run``, the browser tests):
    it runs the response's ``close()``, and so the work registered with ``call_on_close``
    (the mail a request queued), as soon as the last chunk is handed over.

    That server calls ``close()`` only after draining what the client may still send, and a
    client that resets the connection once it has the response (a browser following a
    redirect) makes that read raise and ``close()`` never run: the mail then waited for
    ``send-mail``. Under any other server the response passes through untouched."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        body = self.wsgi_app(environ, start_response)
        if not str(environ.get("SERVER_SOFTWARE", "")).startswith("Werkzeug/"):
            return body
        return _ClosedOnceDone(body)


class _ClosedOnceDone:
    """The body, closed once when exhausted and again (a no-op) when the server asks."""

    def __init__(self, body: Iterable[bytes]) -> None:
        self.body = body
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.body
        self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            close = getattr(self.body, "close", None)
            if close is not None:
                close()


def init_app(app: Flask) -> None:
    """Commit or roll back after every request."""
    app.after_request(finish_request)
    app.wsgi_app = CloseAfterLastChunk(app.wsgi_app)  # type: ignore[method-assign]
