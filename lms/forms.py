"""What every form shares: a refused use case's problems put beside the fields they name."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TypeVar

from flask import current_app, g, request
from flask_wtf import FlaskForm
from werkzeug.routing import IntegerConverter
from wtforms import Field

from lms.errors import DomainError


def show_problems(form: FlaskForm, error: DomainError, default_field: str | None = None) -> int:
    """Put each problem of ``error`` on its field (those naming none on ``default_field``, or
    on the form); return the status to answer.

    The request's transaction is rolled back after the response (its status is 400 or more),
    so nothing the refused use case wrote is kept."""
    for problem in error.problems:
        name = problem.field or default_field
        field = form._fields.get(name) if name else None
        if field is not None:
            field.errors = [*field.errors, problem.message]
        else:
            form.form_errors.append(problem.message)
    return error.status_code


class IdConverter(IntegerConverter):
    """``<int:...>`` in every URL: ASCII digits only, at most ``MAX_ID``; anything else is a
    404, never a 500 from the database (a 20-digit id overflowed PostgreSQL's integer)."""

    regex = r"[0-9]{1,10}"

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


#: The largest id or count a request may name: the databases' 32-bit integer columns.
MAX_ID = 2**31 - 1


def whole_number(text: str | None, *, maximum: int = MAX_ID) -> int | None:
    """``text`` as a whole number from 0 to ``maximum`` written in ASCII digits, or None.

    ``str.isdigit`` also accepts "²" and other digits ``int`` refuses, and a 20-digit id
    overflows the database: both once turned a request into a 500."""
    if not text or len(text) > len(str(maximum)) or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if value <= maximum else None


View = TypeVar("View", bound=Callable)


def takes_uploads(view: View) -> View:
    """Mark a form page that takes a file: a request over ``MAX_CONTENT_LENGTH`` shows the page
    again, the limit beside the file field (``oversized_upload``), not a bare 413 page."""
    view.takes_uploads = True  # type: ignore[attr-defined]  # copied by functools.wraps
    return view


def refuse_oversized_upload() -> None:
    """Before the body is read (registered before CSRF, which reads it): a POST to a page
    marked ``takes_uploads`` whose declared length is over the limit is answered as a GET of
    that page, its body never read, with ``oversized_upload`` telling the view why. Nothing
    is written: the view only renders, and the answer is a 413 (rolled back)."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if request.method != "POST" or not limit or (request.content_length or 0) <= limit:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, "takes_uploads", False):
        return  # every other page answers with the plain 413 page
    g.oversized_upload = (
        f"The file is too large: a form may send at most {limit / (1024 * 1024):.0f} MB. "
        "Choose a smaller file."
    )
    # Answered as a GET with an empty form: the body is never parsed (what Werkzeug's own
    # form loading leaves after reading a body, set here without reading it).
    request.method = "GET"
    empty = request.parameter_storage_class
    request.__dict__.update(stream=io.BytesIO(), form=empty(), files=empty())


def oversized_upload(field: Field) -> int | None:
    """413, with the limit beside ``field``, when the request's upload was over the limit
    (``refuse_oversized_upload``); None otherwise."""
    message = g.get("oversized_upload")
    if message is None:
        return None
    field.errors = [*field.errors, message]
    return 413
