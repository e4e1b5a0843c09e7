"""Forms for taking a quiz."""

from __future__ import annotations

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from lms.errors import InvalidInput

ANSWER_PREFIX = "q-"


class QuizForm(FlaskForm):
    """Carries the CSRF token; the answers are radio groups named ``q-<question id>``."""


def parse_answers(form: MultiDict[str, str]) -> dict[int, frozenset[int]]:
    """Read ``q-<question id>=<choice id>`` pairs, refusing anything that is not a number."""
    answers: dict[int, frozenset[int]] = {}
    for key in form:
        if not key.startswith(ANSWER_PREFIX):
            continue
        raw_question = key[len(ANSWER_PREFIX) :]
        values = form.getlist(key)
        if not raw_question.isdigit() or not all(v.isdigit() for v in values):
            raise InvalidInput("The answers were not sent in the expected form.")
        answers[int(raw_question)] = frozenset(int(v) for v in values)
    return answers
