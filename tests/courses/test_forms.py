"""The quiz form's answers: ``q-<question id>=<choice id>`` pairs, ids in ASCII digits only."""

import pytest
from werkzeug.datastructures import MultiDict

from lms.courses.forms import parse_answers
from lms.errors import InvalidInput


def test_answers_are_read_as_question_and_choice_ids():
    form = MultiDict([("q-7", "70"), ("q-8", "80"), ("q-8", "81"), ("csrf_token", "x")])
    assert parse_answers(form) == {7: frozenset({70}), 8: frozenset({80, 81})}


@pytest.mark.parametrize(
    "pair",
    [
        ("q-²", "1"),  # str.isdigit accepts it, int() does not
        ("q-1", "²"),
        ("q-1", "١٢"),  # Arabic-Indic digits: int() reads them, no id is written so
        ("q-" + "1" * 20, "1"),  # past the database's integer
        ("q-1", "9" * 20),
        ("q-1", "2147483648"),
        ("q-", "1"),
        ("q-1", ""),
        ("q-1", "-1"),
        ("q-1", " 1"),
    ],
)
def test_anything_but_an_id_is_refused_with_a_message(pair):
    with pytest.raises(InvalidInput, match="expected form"):
        parse_answers(MultiDict([pair]))
