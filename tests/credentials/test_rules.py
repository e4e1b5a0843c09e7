"""The readiness engine, tested without the app: tables of trees, facts and verdicts."""

from datetime import date

import pytest

from lms.credentials.rules import (
    ModuleFact,
    RequirementError,
    State,
    StudentFacts,
    evaluate,
    module_codes,
    parse_requirements,
    requirement_to_data,
)

TITLES = {"T-1": "Word parts", "T-2": "Body systems", "C-1": "ICD-10-CM conventions"}


def module(code, min_score=70):
    return {"type": "module_completed", "module": code, "min_score": min_score}


DIPLOMA = {"type": "evidence", "kind": "hs_diploma_or_ged"}


def facts(evidence=None, **modules):
    return StudentFacts(
        modules={code.replace("_", "-"): fact for code, fact in modules.items()},
        evidence=evidence or {},
    )


def done(score, on=date(2026, 10, 1)):
    return ModuleFact(completed_score=score, completed_on=on, best_attempt_score=score)


@pytest.mark.parametrize(
    ("tree", "student", "met", "progress", "unmet"),
    [
        # one module, not attempted
        (
            module("T-1"),
            facts(),
            False,
            0.0,
            ["Pass Word parts (T-1) with 70% or more: not attempted yet"],
        ),
        # one module, failed attempt: the best score is told
        (
            module("T-1"),
            facts(T_1=ModuleFact(best_attempt_score=64)),
            False,
            0.0,
            ["Pass Word parts (T-1) with 70% or more: your best is 64%"],
        ),
        # passed the quiz but below the credential's higher bar
        (
            module("T-1", 80),
            facts(T_1=done(75)),
            False,
            0.0,
            ["Pass Word parts (T-1) with 80% or more: your best is 75%"],
        ),
        (module("T-1"), facts(T_1=done(70)), True, 1.0, []),
        # no minimum score: any recorded completion counts
        ({"type": "module_completed", "module": "T-1"}, facts(T_1=done(50)), True, 1.0, []),
        # all_of reports every unmet child, not only the first
        (
            {"type": "all_of", "children": [module("T-1"), module("T-2"), DIPLOMA]},
            facts(T_2=done(90)),
            False,
            1 / 3,
            [
                "Pass Word parts (T-1) with 70% or more: not attempted yet",
                "Have your high school diploma or GED verified: not submitted yet",
            ],
        ),
        (
            {"type": "all_of", "children": [module("T-1"), DIPLOMA]},
            facts(T_1=done(88), evidence={"hs_diploma_or_ged": "verified"}),
            True,
            1.0,
            [],
        ),
        # evidence waiting for review, and rejected evidence, are both unmet and say so
        (
            DIPLOMA,
            facts(evidence={"hs_diploma_or_ged": "submitted"}),
            False,
            0.0,
            [
                "Have your high school diploma or GED verified: "
                "submitted, waiting for review by your school"
            ],
        ),
        (
            DIPLOMA,
            facts(evidence={"hs_diploma_or_ged": "rejected"}),
            False,
            0.0,
            ["Have your high school diploma or GED verified: it was rejected; submit it again"],
        ),
        # any_of: one is enough, progress is the best child's
        (
            {"type": "any_of", "children": [module("T-1"), module("T-2")]},
            facts(T_2=done(71)),
            True,
            1.0,
            [],
        ),
        # n_of: two of three
        (
            {"type": "n_of", "n": 2, "children": [module("T-1"), module("T-2"), module("C-1")]},
            facts(C_1=done(99)),
            False,
            0.5,
            [
                "Pass Word parts (T-1) with 70% or more: not attempted yet",
                "Pass Body systems (T-2) with 70% or more: not attempted yet",
            ],
        ),
        (
            {"type": "n_of", "n": 2, "children": [module("T-1"), module("T-2"), module("C-1")]},
            facts(C_1=done(99), T_1=done(70)),
            True,
            1.0,
            [],  # the third option is not missing once two are done
        ),
        # nesting: progress is the share of needed leaves met, however they are grouped
        (
            {
                "type": "all_of",
                "children": [
                    {"type": "all_of", "children": [module("T-1"), module("T-2")]},
                    DIPLOMA,
                ],
            },
            facts(T_1=done(80)),
            False,
            1 / 3,
            [
                "Pass Body systems (T-2) with 70% or more: not attempted yet",
                "Have your high school diploma or GED verified: not submitted yet",
            ],
        ),
    ],
)
def test_evaluate(tree, student, met, progress, unmet):
    outcome = evaluate(parse_requirements(tree), student, TITLES)
    assert outcome.met is met
    assert outcome.progress == pytest.approx(progress)
    assert [leaf.explanation for leaf in outcome.unmet()] == unmet


def test_met_module_explains_score_and_date():
    outcome = evaluate(parse_requirements(module("T-1")), facts(T_1=done(85.5)), TITLES)
    assert outcome.explanation == "Word parts (T-1): done with 85.5% on 2026-10-01"
    assert outcome.state is State.DONE
    assert outcome.score == 85.5


def test_states_of_leaves_and_groups():
    tree = parse_requirements({"type": "all_of", "children": [module("T-1"), module("T-2")]})
    untouched = evaluate(tree, facts(), TITLES)
    started = evaluate(tree, facts(T_1=ModuleFact(best_attempt_score=40)), TITLES)
    assert untouched.state is State.NOT_STARTED
    assert started.state is State.IN_PROGRESS
    assert [leaf.state for leaf in started.leaf_outcomes()] == [
        State.IN_PROGRESS,
        State.NOT_STARTED,
    ]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"type": "nope"}, "root: unknown requirement type 'nope'"),
        ([], "root: expected an object"),
        ({"type": "all_of", "children": []}, "root: all_of needs a non-empty list of children"),
        ({"type": "module_completed"}, "root: module_completed needs a module code"),
        (module("T-1", 101), "root: min_score must be a number from 0 to 100"),
        (module("T-1", -1), "root: min_score must be a number from 0 to 100"),
        (module("T-1", "70"), "root: min_score must be a number from 0 to 100"),
        ({"type": "evidence", "kind": "passport"}, "root: unknown evidence kind 'passport'"),
        (
            {"type": "n_of", "n": 3, "children": [module("T-1"), module("T-2")]},
            "root: n_of needs n between 1 and 2",
        ),
    ],
)
def test_bad_trees_are_refused_with_a_reason(data, problem):
    with pytest.raises(RequirementError) as error:
        parse_requirements(data)
    assert problem in error.value.problems


def test_every_problem_is_reported():
    data = {"type": "all_of", "children": [{"type": "x"}, module("T-1", 200), DIPLOMA]}
    with pytest.raises(RequirementError) as error:
        parse_requirements(data)
    assert error.value.problems == [
        "root.all_of[0]: unknown requirement type 'x'",
        "root.all_of[1]: min_score must be a number from 0 to 100",
    ]


def test_round_trip_and_module_codes():
    data = {
        "type": "all_of",
        "label": "Core",
        "children": [
            module("T-1"),
            {"type": "n_of", "n": 1, "children": [module("T-2"), module("T-1"), DIPLOMA]},
        ],
    }
    tree = parse_requirements(data)
    assert requirement_to_data(tree) == data
    assert module_codes(tree) == ["T-1", "T-2"]
