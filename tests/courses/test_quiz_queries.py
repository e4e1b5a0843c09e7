"""A round of study (lesson, start, player, autosave, submit) sends the same number of SQL
queries whatever the quiz's length, and a submission loads its attempt once."""

import re

from sqlalchemy import select

from lms.auth.models import Role
from lms.courses.models import Choice
from lms.extensions import db
from tests import factories
from tests.conftest import count_queries, csrf_token, login

CHOICE = re.compile(r'name="q-(\d+)" value="(\d+)"')


def study_round(client, module_id: int) -> dict[str, list[str]]:
    token = csrf_token(client)
    queries = {}
    with count_queries() as queries["lesson"]:
        assert client.get(f"/modules/{module_id}").status_code == 200
    with count_queries() as queries["start"]:
        started = client.post(f"/modules/{module_id}/attempts", data={"csrf_token": token})
    assert started.status_code == 302
    attempt_url = started.headers["Location"]
    with count_queries() as queries["player"]:
        player = client.get(attempt_url)
    # Every answer right: which rows the grading changes then does not depend on the shuffle
    # (the ORM sends one UPDATE per set of changed columns).
    correct = set(db.session.scalars(select(Choice.id).where(Choice.is_correct)))
    answers = {
        f"q-{q}": c for q, c in CHOICE.findall(player.get_data(as_text=True)) if int(c) in correct
    }
    with count_queries() as queries["autosave"]:
        saved = client.post(
            attempt_url + "/answers",
            data={**answers, "csrf_token": token},
            headers={"Accept": "application/json"},
        )
    assert saved.status_code == 200
    with count_queries() as queries["submit"]:
        submitted = client.post(attempt_url + "/submit", data={**answers, "csrf_token": token})
    assert submitted.status_code == 302
    return queries


def test_a_study_round_costs_the_same_queries_for_a_short_and_a_long_quiz(app, client):
    factories.course("SHORT", modules=1, questions=3)
    factories.course("LONG", modules=1, questions=30)
    short, long = factories.module("SHORT-1"), factories.module("LONG-1")
    student = factories.user(Role.STUDENT)
    db.session.commit()
    login(client, student.email)
    counts = {}
    for module in (short, long):
        counts[module.code] = {k: len(v) for k, v in study_round(client, module.id).items()}
    assert counts["SHORT-1"] == counts["LONG-1"]


def test_a_submission_loads_its_attempt_once(app, client):
    factories.course("TERM", modules=1, questions=5)
    module = factories.module("TERM-1")
    student = factories.user(Role.STUDENT)
    db.session.commit()
    login(client, student.email)
    submit = study_round(client, module.id)["submit"]
    loads = [s for s in submit if s.lstrip().startswith("SELECT") and "FROM attempt_question" in s]
    assert len(loads) == 1
    # The module page only counts the questions: it reads no choices.
    lesson = study_round(client, module.id)["lesson"]
    assert not [s for s in lesson if "FROM choice" in s]
