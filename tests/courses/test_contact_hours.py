"""Contact hours: the readiness leaf (pure) and the facts the credentials service gathers."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.courses import time_on_task
from lms.courses.attempts import sitting
from lms.courses.bank import analysis
from lms.courses.models import Quiz
from lms.credentials import service as credentials
from lms.credentials.rules import (
    ContactHours,
    RequirementError,
    StudentFacts,
    evaluate,
    parse_requirements,
    requirement_to_data,
)
from lms.extensions import db
from lms.ledger import service as ledger
from tests import factories
from tests.conftest import count_queries
from tests.courses.builders import practice_exam

T0 = factories.NOW


def test_contact_hours_leaf_parses_round_trips_and_evaluates():
    tree = parse_requirements({"type": "contact_hours", "hours": 80})
    assert tree == ContactHours(80)
    assert requirement_to_data(ContactHours(10, "CODING")) == {
        "type": "contact_hours",
        "hours": 10,
        "course": "CODING",
    }
    short = evaluate(tree, StudentFacts(contact_hours={None: 20.0}), {})
    assert (short.met, short.progress) == (False, 0.25)
    assert "80 contact hours: 20.0 so far" in short.explanation
    done = evaluate(tree, StudentFacts(contact_hours={None: 81.0}), {})
    assert done.met and done.progress == 1.0
    in_course = evaluate(ContactHours(5, "CODING"), StudentFacts(contact_hours={None: 9.0}), {})
    assert not in_course.met and in_course.explanation.endswith("in CODING: 0.0 so far")
    assert not evaluate(tree, StudentFacts(), {}).met


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "contact_hours"},
        {"type": "contact_hours", "hours": 0},
        {"type": "contact_hours", "hours": 5, "course": ""},
    ],
)
def test_contact_hours_leaf_refuses_bad_data(bad):
    with pytest.raises(RequirementError):
        parse_requirements(bad)


def beat(student, module, *seconds):
    for s in seconds:
        time_on_task.record_heartbeat(student, module.id, T0 + timedelta(seconds=s))
    db.session.commit()


def test_hours_are_summed_per_student_and_course_and_reach_the_readiness_facts(app):
    factories.course("TERM")
    factories.course("CODE")
    one, two = factories.user(Role.STUDENT), factories.user(Role.STUDENT)
    beat(one, factories.module("TERM-1"), 0, 60, 120)  # 120 s
    beat(one, factories.module("CODE-1"), 0, 90)  # 90 s
    beat(two, factories.module("TERM-2"), 0, 30)  # 30 s
    hours = time_on_task.contact_hours_by_student([one.id, two.id, 999])
    assert hours == {one.id: round(210 / 3600, 2), two.id: round(30 / 3600, 2), 999: 0.0}
    term = factories.module("TERM-1").course_id
    assert time_on_task.contact_hours_by_student([one.id], [term]) == {one.id: round(120 / 3600, 2)}
    facts = credentials.gather_facts(
        [one.id, two.id], {}, now=factories.NOW, overrides_in=ledger.OverrideScope(None, None)
    )
    assert facts[one.id].contact_hours[None] == round(210 / 3600, 2)
    assert facts[one.id].contact_hours["CODE"] == round(90 / 3600, 2)
    assert facts[two.id].contact_hours == {None: round(30 / 3600, 2), "TERM": round(30 / 3600, 2)}


def test_contact_hours_and_item_analysis_use_a_fixed_number_of_queries(app):
    exam_id = practice_exam(minutes=None).id
    instructor_id = factories.user(Role.INSTRUCTOR).id
    quiz_id = db.session.scalar(select(Quiz.id))
    counts = {}
    ids: list[int] = []
    for size in (1, 4, 12):
        while len(ids) < size:
            student = factories.user(Role.STUDENT)
            ids.append(student.id)
            for second in (0, 60):
                time_on_task.record_heartbeat(student, exam_id, T0 + timedelta(seconds=second))
            attempt = sitting.start_attempt(student, exam_id, T0)
            sitting.submit_attempt(student, attempt.id, {}, T0)
            db.session.commit()
        db.session.expunge_all()
        actor = db.session.get(User, instructor_id)
        with count_queries() as queries:
            hours = time_on_task.contact_hours_by_student(ids)
            time_on_task.contact_hours_facts(ids)
            _, reports, attempts = analysis.item_analysis(actor, quiz_id)
        assert len(hours) == attempts == size and 4 <= len(reports) <= 6
        counts[size] = len(queries)
    assert counts[1] == counts[4] == counts[12], counts
