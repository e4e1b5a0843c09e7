"""The quiz navigator and "flag for review" (issue 19 item 16): a link per question with its
state in words, drawn by the server from the saved answers and flags; flags saved with the
answers, per attempt, and named before submitting. The clock is injected."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from lms.courses.models import Attempt, AttemptAnswer, AttemptQuestion, AttemptStatus
from lms.extensions import db
from tests.conftest import csrf_token, post_form
from tests.courses.test_player_views import T0, at, drawn, right, sit

SHOWN = {"flags": "shown"}  # the player's form says it shows the flags


def flags_saved(attempt) -> dict[int, bool]:
    """Each drawn question's flag as stored, by its position."""
    db.session.expire_all()
    rows = db.session.execute(
        select(AttemptQuestion.position, AttemptQuestion.flagged).where(
            AttemptQuestion.attempt_id == attempt.id
        )
    )
    return dict(rows.all())


def navigator(page: str) -> dict[int, tuple[str, str]]:
    """The navigator's entries: number -> (the link's classes, the state it states)."""
    block = re.search(r'<nav class="quiz-navigator.*?</nav>', page, re.S).group(0)
    entries = re.findall(
        r'<a href="#question-(\d+)" class="([^"]*)"[^>]*>\s*<span class="nav-number">\1</span>'
        r'\s*<span class="nav-state">([^<]*)</span></a>',
        block,
    )
    return {int(number): (classes, state) for number, classes, state in entries}


def test_the_navigator_links_every_question_with_its_state_in_words(client, monkeypatch):
    _, _, attempt = sit(client, monkeypatch)  # four questions
    questions = drawn(attempt)

    page = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)

    assert navigator(page) == {n: ("nav-question", "not answered") for n in (1, 2, 3, 4)}
    assert "0 of 4 answered." in page
    assert all(f'id="question-{n}"' in page for n in (1, 2, 3, 4))
    # a "Flag for review" checkbox, labelled, inside each question's fieldset
    for number, question_id in enumerate(questions, start=1):
        fieldset = re.search(rf'<fieldset[^>]*id="question-{number}".*?</fieldset>', page, re.S)
        assert f'name="flag" value="{question_id}"' in fieldset.group(0)
        assert f'<label for="flag-{question_id}">Flag question {number} for review</label>' in (
            fieldset.group(0)
        )


def test_flags_are_saved_with_the_answers_and_shown_after_a_reload(client, monkeypatch):
    _, _, attempt = sit(client, monkeypatch)
    first, second, third, _ = drawn(attempt)
    saved = post_form(
        client,
        f"/attempts/{attempt.id}/answers",
        {**SHOWN, f"q-{first}": str(right(first)), "flag": [str(first), str(third)]},
    )
    assert saved.status_code == 302
    assert flags_saved(attempt) == {1: True, 2: False, 3: True, 4: False}

    page = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)  # a reload, no script

    assert navigator(page) == {
        1: ("nav-question is-answered is-flagged", "answered, flagged"),
        2: ("nav-question", "not answered"),
        3: ("nav-question is-flagged", "not answered, flagged"),
        4: ("nav-question", "not answered"),
    }
    assert "1 of 4 answered, 2 flagged for review." in page
    assert f'name="flag" value="{first}" checked' in page
    assert f'name="flag" value="{second}">' in page  # not checked

    # the script's autosave sends the whole form: a flag unticked is cleared
    response = client.post(
        f"/attempts/{attempt.id}/answers",
        data={**SHOWN, f"q-{first}": str(right(first)), "flag": str(third)},
        headers={"X-CSRFToken": csrf_token(client), "Accept": "application/json"},
    )
    assert response.status_code == 200
    assert flags_saved(attempt) == {1: False, 2: False, 3: True, 4: False}


def test_a_form_without_the_flags_leaves_them_as_they_are(client, monkeypatch):
    _, _, attempt = sit(client, monkeypatch)
    first = drawn(attempt)[0]
    post_form(client, f"/attempts/{attempt.id}/answers", {**SHOWN, "flag": str(first)})
    post_form(client, f"/attempts/{attempt.id}/answers", {f"q-{first}": str(right(first))})
    assert flags_saved(attempt)[1] is True


def test_a_flag_on_a_question_not_in_the_attempt_is_refused_and_nothing_saved(client, monkeypatch):
    _, _, attempt = sit(client, monkeypatch)
    first = drawn(attempt)[0]
    for flag in ("999999", "x"):
        response = post_form(
            client,
            f"/attempts/{attempt.id}/answers",
            {**SHOWN, f"q-{first}": str(right(first)), "flag": [str(first), flag]},
        )
        assert response.status_code == 400
    assert flags_saved(attempt) == {1: False, 2: False, 3: False, 4: False}
    assert db.session.scalars(select(AttemptAnswer)).all() == []


def test_submitting_with_flags_names_them_first(client, monkeypatch):
    _, _, attempt = sit(client, monkeypatch)
    questions = drawn(attempt)
    every = {f"q-{q}": str(right(q)) for q in questions}

    response = post_form(
        client,
        f"/attempts/{attempt.id}/submit",
        {**every, **SHOWN, "flag": [str(questions[2]), str(questions[1])]},
    )

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.search(
        r'You flagged questions\s*<a href="#question-2">2</a>, '
        r'<a href="#question-3">3</a> for review',
        page,
    )
    assert "You have not answered" not in page
    assert "Submit with 2 flagged" in page
    assert flags_saved(attempt) == {1: False, 2: True, 3: True, 4: False}
    graded = db.session.get(Attempt, attempt.id)
    assert graded.status is AttemptStatus.IN_PROGRESS
    assert navigator(page)[2] == ("nav-question is-answered is-flagged", "answered, flagged")

    # "Submit with 2 flagged" sends the form again, confirmed: graded, flags kept
    response = post_form(
        client,
        f"/attempts/{attempt.id}/submit",
        {
            **every,
            **SHOWN,
            "flag": [str(questions[2]), str(questions[1])],
            "unanswered": "confirmed",
        },
    )
    assert response.status_code == 302
    db.session.refresh(graded)
    assert (graded.status, graded.score) == (AttemptStatus.SUBMITTED, 100.0)
    assert flags_saved(attempt) == {1: False, 2: True, 3: True, 4: False}


def test_blank_and_flagged_questions_are_named_together(client, monkeypatch):
    _, _, attempt = sit(client, monkeypatch)
    first, second, *_ = drawn(attempt)
    response = post_form(
        client,
        f"/attempts/{attempt.id}/submit",
        {**SHOWN, f"q-{first}": str(right(first)), "flag": str(second)},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "You have not answered 3 questions:" in page
    assert re.search(r'You flagged question\s*<a href="#question-2">2</a> for review', page)
    assert "Submit with 3 unanswered" in page


def test_no_flags_and_every_answer_submits_at_once(client, monkeypatch):
    _, _, attempt = sit(client, monkeypatch)
    every = {f"q-{q}": str(right(q)) for q in drawn(attempt)}
    at(monkeypatch, T0 + timedelta(minutes=3))
    response = post_form(client, f"/attempts/{attempt.id}/submit", {**every, **SHOWN})
    assert response.status_code == 302
    graded = db.session.get(Attempt, attempt.id)
    db.session.refresh(graded)
    assert graded.status is AttemptStatus.SUBMITTED
