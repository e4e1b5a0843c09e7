"""The fast judge (``rules.Judge``) agrees with ``rules.evaluate`` on every tree and facts:
the same met, progress and leaf states, only without the sentences."""

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.credentials.rules import (
    AttemptFact,
    CourseFact,
    Judge,
    ModuleFact,
    ModuleFacts,
    State,
    StudentFacts,
    evaluate,
    leaf_key,
    leaves,
    parse_requirements,
    standing,
)
from lms.enrollment.progress.matrix import _cell as matrix_cell
from lms.enrollment.progress.matrix import cell_of

TODAY = date(2026, 11, 1)
MODULES = ["A-1", "A-2", "B-1"]
COURSES = ["A", "B"]
KINDS = ["hs_diploma_or_ged", "practicode"]
# Thresholds and scores from a few shared values, so that "exactly the minimum" comes up often.
THRESHOLDS = [None, 0, 70, 80, 100]

leaf_data = st.one_of(
    st.builds(
        lambda m, s: {"type": "module_completed", "module": m, "min_score": s},
        st.sampled_from(MODULES),
        st.sampled_from(THRESHOLDS),
    ),
    st.builds(lambda k: {"type": "evidence", "kind": k}, st.sampled_from(KINDS)),
    st.builds(
        lambda m, s, w: {"type": "assessment_score", "module": m, "min_score": s, "within_days": w},
        st.sampled_from(MODULES),
        st.sampled_from([0, 70, 80, 100]),
        st.one_of(st.none(), st.integers(1, 400)),
    ),
    st.builds(lambda n: {"type": "experience_months", "min_months": n}, st.integers(1, 48)),
    st.builds(
        lambda h, c: {"type": "contact_hours", "hours": h, **({"course": c} if c else {})},
        st.integers(1, 80),
        st.one_of(st.none(), st.sampled_from(COURSES)),
    ),
    st.builds(lambda c: {"type": "course_completed", "course": c}, st.sampled_from(COURSES)),
)


def _group(children):
    return st.one_of(
        st.just({"type": "all_of", "children": children}),
        st.just({"type": "any_of", "children": children}),
        st.integers(1, len(children)).map(lambda n: {"type": "n_of", "n": n, "children": children}),
    )


tree_data = st.recursive(
    leaf_data, lambda inner: st.lists(inner, min_size=1, max_size=4).flatmap(_group), max_leaves=14
)

score = st.one_of(st.none(), st.sampled_from([0, 64, 70, 80, 100]), st.integers(0, 100))
module_fact = st.builds(
    lambda done, attempt: ModuleFact(
        completed_score=done,
        completed_on=TODAY if done is not None else None,
        best_attempt_score=attempt,
    ),
    score,
    score,
)
student_facts = st.builds(
    lambda modules, evidence, months, pending, attempts, hours, courses, overrides: StudentFacts(
        modules=modules,
        evidence=evidence,
        experience_months=months,
        experience_pending=pending,
        attempts=attempts,
        as_of=TODAY,
        contact_hours=hours,
        courses=courses,
        overrides=overrides,
    ),
    st.dictionaries(st.sampled_from(MODULES), module_fact),
    st.dictionaries(st.sampled_from(KINDS), st.sampled_from(["verified", "submitted", "rejected"])),
    st.integers(0, 60),
    st.booleans(),
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
    st.dictionaries(st.sampled_from([None, *COURSES]), st.floats(0, 100)),
    st.dictionaries(
        st.sampled_from(COURSES),
        st.tuples(st.integers(0, 4), st.integers(0, 4)).map(
            lambda t: CourseFact(min(t), max(t), TODAY if t[0] == t[1] else None)
        ),
    ),
    st.one_of(
        st.just({}),  # most students have no override (and take the judge's quick paths)
        st.dictionaries(
            st.sampled_from(
                [
                    *MODULES,
                    "evidence:practicode",
                    "score:A-1",
                    "course:B",
                    "hours:*",
                    "experience:6",
                ]
            ),
            st.booleans(),
        ),
    ),
)
module_list = st.lists(
    st.builds(
        lambda m, s: {"type": "module_completed", "module": m, "min_score": s},
        st.sampled_from(MODULES),
        st.sampled_from(THRESHOLDS),
    ),
    min_size=1,
    max_size=5,
).map(lambda children: {"type": "all_of", "children": children})


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        tree_data, module_list, st.lists(module_list, min_size=1, max_size=3).flatmap(_group)
    ),
    student_facts,
)
def test_the_judge_agrees_with_evaluate(data, student):
    tree = parse_requirements(data)
    outcome = evaluate(tree, student, {})
    # the service hands the facts over as ModuleFacts; tests and others as plain dicts
    as_rows = replace(
        student, modules=ModuleFacts({c: tuple(f) for c, f in student.modules.items()})
    )
    assert evaluate(tree, as_rows, {}) == outcome
    for facts in (student, as_rows):
        verdict = Judge(tree)(facts)
        assert verdict.met == outcome.met
        assert verdict.progress == pytest.approx(outcome.progress)
        assert verdict.leaf_states == tuple(leaf.state for leaf in outcome.leaf_outcomes())
    # a leaf is met exactly when it is done, which is why a verdict keeps only states
    assert [leaf.met for leaf in outcome.leaf_outcomes()] == [
        state is State.DONE for state in verdict.leaf_states
    ]
    # a leaf's standing, where its kind gives one, is its outcome without the sentence; and a
    # cohort page's cell is the cell of the outcome, the sentence written where it is shown
    for leaf, said in zip(leaves(tree), outcome.leaf_outcomes(), strict=True):
        assert said.achieved_on is None or said.met  # a date says when it was met
        quick = standing(leaf, student)
        if quick is not None:
            assert quick == (
                said.met,
                said.progress,
                said.state,
                said.score,
                said.achieved_on,
                said.overridden,
            )
        full, cell = cell_of(said, leaf_key(leaf)), matrix_cell(leaf, leaf_key(leaf), student, {})
        if full.shows_sentence:
            assert cell == full
        else:  # no sentence shown: written or not, it is never read
            assert replace(cell, explanation="") == replace(full, explanation="")


def test_module_facts_read_like_a_mapping_of_module_facts():
    done = ModuleFact(completed_score=80.0, completed_on=TODAY, best_attempt_score=85.0)
    facts = ModuleFacts({"A-1": (80.0, TODAY, 85.0), "A-2": (None, None, 40.0)})
    assert facts["A-1"] == done and facts.get("A-1") == done
    assert facts.get("A-2").best_attempt_score == 40.0 and facts.get("A-2").completed_on is None
    assert facts.get("B-1") is None and facts.get("B-1", ModuleFact()) == ModuleFact()
    assert "A-1" in facts and "B-1" not in facts and len(facts) == 2
    assert dict(facts) == {"A-1": done, "A-2": ModuleFact(best_attempt_score=40.0)}
    with pytest.raises(KeyError):
        facts["B-1"]


def test_one_judge_serves_many_students_and_honours_overrides():
    tree = parse_requirements(
        {
            "type": "all_of",
            "children": [
                {"type": "module_completed", "module": "A-1", "min_score": 70},
                {"type": "evidence", "kind": "hs_diploma_or_ged"},
            ],
        }
    )
    judge = Judge(tree)
    passed = ModuleFact(completed_score=80, completed_on=TODAY, best_attempt_score=80)
    nobody = judge(StudentFacts())
    halfway = judge(StudentFacts(modules={"A-1": passed}))
    overridden = judge(
        StudentFacts(modules={"A-1": passed}, overrides={"evidence:hs_diploma_or_ged": True})
    )
    assert (nobody.met, nobody.progress) == (False, 0.0)
    assert nobody.leaf_states == (State.NOT_STARTED, State.NOT_STARTED)
    assert (halfway.met, halfway.progress) == (False, 0.5)
    assert halfway.leaf_states == (State.DONE, State.NOT_STARTED)
    assert (overridden.met, overridden.progress) == (True, 1.0)
    assert [leaf_key(leaf) for leaf in leaves(judge.tree)] == ["A-1", "evidence:hs_diploma_or_ged"]
