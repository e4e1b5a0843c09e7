"""Quiz grading, tested without the app."""

import pytest

from lms.courses.rules.grading import AnswerError, QuestionKey, grade

KEYS = [
    QuestionKey(1, frozenset({10, 11, 12}), frozenset({10})),
    QuestionKey(2, frozenset({20, 21}), frozenset({21})),
    QuestionKey(3, frozenset({30, 31, 32, 33}), frozenset({31, 33})),
]


@pytest.mark.parametrize(
    ("answers", "correct", "score", "passed"),
    [
        ({1: {10}, 2: {21}, 3: {31, 33}}, 3, 100.0, True),
        ({1: {10}, 2: {21}, 3: {31}}, 2, 66.67, False),  # half of a multiple answer is wrong
        ({1: {10}, 2: {20}}, 1, 33.33, False),  # an unanswered question is wrong
        ({}, 0, 0.0, False),
    ],
)
def test_grade(answers, correct, score, passed):
    result = grade(KEYS, {q: frozenset(c) for q, c in answers.items()}, passing_score=70)
    assert (result.correct, result.total, result.score, result.passed) == (
        correct,
        3,
        score,
        passed,
    )


def test_passing_score_is_inclusive():
    keys = [QuestionKey(i, frozenset({i * 10, i * 10 + 1}), frozenset({i * 10})) for i in range(10)]
    answers = {i: frozenset({i * 10 if i < 7 else i * 10 + 1}) for i in range(10)}
    assert grade(keys, answers, passing_score=70).passed


def test_answers_to_other_questions_and_unknown_choices_are_refused():
    with pytest.raises(AnswerError) as error:
        grade(KEYS, {1: frozenset({99}), 7: frozenset({70})}, passing_score=70)
    assert error.value.problems == [
        "Choice 99 does not belong to question 1.",
        "Question 7 is not part of this quiz.",
    ]
