"""What every form shares: a refused use case's problems put beside the fields they name."""

from __future__ import annotations

from flask_wtf import FlaskForm
from werkzeug.routing import IntegerConverter

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
