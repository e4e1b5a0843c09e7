"""The course, assessment and experience leaves, the depth limit, and properties of the engine
(hypothesis). The apprentice path, catalogue data, is tested with the catalogue."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.credentials.rules import (
    AttemptFact,
    CourseFact,
    ModuleFact,
    RequirementError,
    StudentFacts,
    evaluate,
    experience_months,
    months_between,
    parse_requirements,
    requirement_to_data,
)

TODAY = date(2026, 11, 2)
TITLES = {"PRAC-1": "CPC practice exam", "MTERM": "Medical Terminology"}
EXAM = {"type": "assessment_score", "module": "PRAC-1", "min_score": 70, "within_days": 90}


def facts(**kwargs):
    return StudentFacts(as_of=TODAY, **kwargs)


def tried(*pairs):
    return {
        "PRAC-1": tuple(AttemptFact(score, TODAY - timedelta(days=ago)) for score, ago in pairs)
    }


@pytest.mark.parametrize(
    ("tree", "student", "met", "progress", "unmet"),
    [
        (
            EXAM,
            facts(),
            False,
            0.0,
            [
                "Score 70% or more on CPC practice exam (PRAC-1) within the last 90 days: "
                "not attempted yet"
            ],
        ),
        (
            EXAM,
            facts(attempts=tried((64, 3))),
            False,
            0.0,
            [
                "Score 70% or more on CPC practice exam (PRAC-1) within the last 90 days: "
                "your best in that time is 64%"
            ],
        ),
        # a pass long ago does not count inside the window
        (
            EXAM,
            facts(attempts=tried((85, 120))),
            False,
            0.0,
            [
                "Score 70% or more on CPC practice exam (PRAC-1) within the last 90 days: "
                "your best, 85%, is older than that"
            ],
        ),
        (EXAM, facts(attempts=tried((64, 3), (72, 89))), True, 1.0, []),
        # without a window any attempt counts
        (
            {"type": "assessment_score", "module": "PRAC-1", "min_score": 70},
            facts(attempts=tried((85, 400))),
            True,
            1.0,
            [],
        ),
        (
            {"type": "course_completed", "course": "MTERM"},
            facts(courses={"MTERM": CourseFact(2, 3)}),
            False,
            2 / 3,
            ["Complete every module of Medical Terminology (MTERM): 2 of 3 modules done"],
        ),
        (
            {"type": "course_completed", "course": "MTERM"},
            facts(courses={"MTERM": CourseFact(3, 3, TODAY)}),
            True,
            1.0,
            [],
        ),
        (
            {"type": "experience_months", "min_months": 6},
            facts(experience_months=4, experience_pending=True),
            False,
            4 / 6,
            [
                "Have 6 months of verified coding experience: 4 months verified "
                "so far; some is waiting for review by your school"
            ],
        ),
        ({"type": "experience_months", "min_months": 6}, facts(experience_months=6), True, 1.0, []),
        (
            {"type": "evidence", "kind": "postsecondary_program"},
            facts(evidence={"postsecondary_program": "verified"}),
            True,
            1.0,
            [],
        ),
    ],
)
def test_new_leaves(tree, student, met, progress, unmet):
    outcome = evaluate(parse_requirements(tree), student, TITLES)
    assert outcome.met is met
    assert outcome.progress == pytest.approx(progress)
    assert [leaf.explanation for leaf in outcome.unmet()] == unmet
    assert requirement_to_data(parse_requirements(tree)) == tree


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (
            {"type": "assessment_score", "module": "P", "min_score": 120},
            "root: min_score must be a number from 0 to 100",
        ),
        (
            {"type": "assessment_score", "module": "P", "min_score": 70, "within_days": 0},
            "root: within_days must be a whole number of days from 1 to 3650",
        ),
        (
            {"type": "assessment_score", "min_score": 70},
            "root: assessment_score needs a module code",
        ),
        ({"type": "course_completed"}, "root: course_completed needs a course code"),
        (
            {"type": "experience_months", "min_months": -3},
            "root: min_months must be a whole number of months from 1 to 600",
        ),
        ({"type": "evidence", "kind": "membershp"}, "root: unknown evidence kind 'membershp'"),
    ],
)
def test_bad_new_leaves_are_refused(data, problem):
    with pytest.raises(RequirementError) as error:
        parse_requirements(data)
    assert problem in error.value.problems


def test_trees_nested_too_deep_are_refused():
    tree = {"type": "experience_months", "min_months": 1}
    for _ in range(10):
        tree = {"type": "all_of", "children": [tree]}
    with pytest.raises(RequirementError, match="nested deeper than 10 levels"):
        parse_requirements(tree)
    parse_requirements(tree["children"][0])  # ten levels are fine


def test_months_and_overlapping_periods():
    assert months_between(date(2024, 1, 15), date(2025, 1, 15)) == 12
    assert months_between(date(2024, 1, 15), date(2025, 1, 14)) == 11
    assert months_between(date(2025, 1, 1), date(2024, 1, 1)) == 0
    # two jobs overlapping for six months count once: Jan 2023 to Jan 2025
    periods = [(date(2023, 1, 1), date(2024, 7, 1)), (date(2024, 1, 1), date(2025, 1, 1))]
    assert experience_months(periods) == 24


# --- properties ---------------------------------------------------------------------------

MODULES = ["A-1", "A-2", "A-3", "B-1"]
KINDS = ["hs_diploma_or_ged", "practicode", "membership"]

leaf_data = st.one_of(
    st.builds(
        lambda m, s: {"type": "module_completed", "module": m, "min_score": s},
        st.sampled_from(MODULES),
        st.integers(0, 100),
    ),
    st.builds(lambda k: {"type": "evidence", "kind": k}, st.sampled_from(KINDS)),
    st.builds(
        lambda m, s, w: {"type": "assessment_score", "module": m, "min_score": s, "within_days": w},
        st.sampled_from(MODULES),
        st.integers(0, 100),
        st.integers(1, 400),
    ),
    st.builds(lambda n: {"type": "experience_months", "min_months": n}, st.integers(1, 48)),
)


def _group(children):
    return st.one_of(
        st.just({"type": "all_of", "children": children}),
        st.just({"type": "any_of", "children": children}),
        st.integers(1, len(children)).map(lambda n: {"type": "n_of", "n": n, "children": children}),
    )


tree_data = st.recursive(
    leaf_data, lambda inner: st.lists(inner, min_size=1, max_size=4).flatmap(_group), max_leaves=12
)

module_facts = st.dictionaries(
    st.sampled_from(MODULES),
    st.builds(
        lambda s: ModuleFact(completed_score=s, completed_on=TODAY, best_attempt_score=s),
        st.integers(0, 100),
    ),
)
student_facts = st.builds(
    lambda modules, evidence, months, attempts: StudentFacts(
        modules=modules,
        evidence=evidence,
        experience_months=months,
        attempts=attempts,
        as_of=TODAY,
    ),
    module_facts,
    st.dictionaries(st.sampled_from(KINDS), st.sampled_from(["verified", "submitted", "rejected"])),
    st.integers(0, 60),
    st.dictionaries(
        st.sampled_from(MODULES),
        st.lists(
            st.builds(
                lambda s, ago: AttemptFact(s, TODAY - timedelta(days=ago)),
                st.integers(0, 100),
                st.integers(0, 500),
            ),
            max_size=3,
        ).map(tuple),
    ),
)


@settings(max_examples=150, deadline=None)
@given(tree_data, student_facts, st.sampled_from(MODULES), st.integers(0, 100))
def test_adding_a_completion_never_makes_a_ready_student_unready(data, student, module, score):
    tree = parse_requirements(data)
    before = evaluate(tree, student, {})
    old = student.modules.get(module)
    best = max(score, old.completed_score) if old and old.completed_score is not None else score
    attempts = dict(student.attempts)
    attempts[module] = (*attempts.get(module, ()), AttemptFact(score, TODAY))
    more = StudentFacts(
        modules={
            **student.modules,
            module: ModuleFact(completed_score=best, completed_on=TODAY, best_attempt_score=best),
        },
        evidence=student.evidence,
        experience_months=student.experience_months,
        attempts=attempts,
        as_of=TODAY,
    )
    after = evaluate(tree, more, {})
    if before.met:
        assert after.met


@settings(max_examples=150, deadline=None)
@given(tree_data, student_facts)
def test_progress_stays_between_zero_and_one(data, student):
    def walk(outcome):
        assert 0.0 <= outcome.progress <= 1.0
        assert outcome.met == (outcome.progress == 1.0) or not outcome.met
        for child in outcome.children:
            walk(child)

    walk(evaluate(parse_requirements(data), student, {}))


@settings(max_examples=100, deadline=None)
@given(st.lists(tree_data, min_size=1, max_size=4), student_facts)
def test_all_of_met_children_is_met(children, student):
    met_children = [c for c in children if evaluate(parse_requirements(c), student, {}).met]
    if not met_children:
        return
    outcome = evaluate(
        parse_requirements({"type": "all_of", "children": met_children}), student, {}
    )
    assert outcome.met
    assert outcome.progress == 1.0
