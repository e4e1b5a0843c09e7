"""Contact hours: the readiness leaf (pure) and the facts the credentials service gathers."""

from datetime import timedelta

import pytest

from lms.auth.models import Role
from lms.courses import service as courses
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
from tests import factories

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
        courses.record_heartbeat(student, module.id, T0 + timedelta(seconds=s))
    db.session.commit()


def test_hours_are_summed_per_student_and_course_and_reach_the_readiness_facts(app):
    factories.course("TERM")
    factories.course("CODE")
    one, two = factories.user(Role.STUDENT), factories.user(Role.STUDENT)
    beat(one, factories.module("TERM-1"), 0, 60, 120)  # 120 s
    beat(one, factories.module("CODE-1"), 0, 90)  # 90 s
    beat(two, factories.module("TERM-2"), 0, 30)  # 30 s
    hours = courses.contact_hours_by_student([one.id, two.id, 999])
    assert hours == {one.id: round(210 / 3600, 2), two.id: round(30 / 3600, 2), 999: 0.0}
    term = factories.module("TERM-1").course_id
    assert courses.contact_hours_by_student([one.id], [term]) == {one.id: round(120 / 3600, 2)}
    facts = credentials.gather_facts([one.id, two.id], {})
    assert facts[one.id].contact_hours[None] == round(210 / 3600, 2)
    assert facts[one.id].contact_hours["CODE"] == round(90 / 3600, 2)
    assert facts[two.id].contact_hours == {None: round(30 / 3600, 2), "TERM": round(30 / 3600, 2)}
