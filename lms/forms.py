"""What every form shares: a refused use case's problems put beside the fields they name."""

from __future__ import annotations

from flask_wtf import FlaskForm

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
