"""Property tests of the readiness engine: more facts never make a student less ready."""

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from lms.credentials.rules import (
    AllOf,
    AnyOf,
    EvidenceKind,
    EvidenceVerified,
    ModuleCompleted,
    ModuleFact,
    NOf,
    StudentFacts,
    evaluate,
)

MODULES = ["M-1", "M-2", "M-3", "M-4"]
TITLES = {code: f"Module {code}" for code in MODULES}
SCORES = st.floats(min_value=0, max_value=100, allow_nan=False) | st.sampled_from(
    [0, 69.99, 70, 100]
)

leaf = st.one_of(
    st.builds(
        ModuleCompleted,
        module=st.sampled_from(MODULES),
        min_score=st.none() | st.sampled_from([50, 70, 80]),
    ),
    st.just(EvidenceVerified(EvidenceKind.HS_DIPLOMA_OR_GED)),
)


def _groups(children):
    lists = st.lists(children, min_size=1, max_size=4).map(tuple)
    return st.one_of(
        st.builds(AllOf, children=lists),
        st.builds(AnyOf, children=lists),
        lists.flatmap(
            lambda kids: st.builds(NOf, n=st.integers(1, len(kids)), children=st.just(kids))
        ),
    )


trees = st.recursive(leaf, _groups, max_leaves=6)

module_facts = st.builds(
    ModuleFact,
    completed_score=st.none() | SCORES,
    completed_on=st.just(date(2026, 10, 1)),
    best_attempt_score=st.none() | SCORES,
)
facts = st.builds(
    StudentFacts,
    modules=st.dictionaries(st.sampled_from(MODULES), module_facts),
    evidence=st.dictionaries(
        st.just("hs_diploma_or_ged"), st.sampled_from(["submitted", "verified", "rejected"])
    ),
)


def with_completion(student: StudentFacts, module: str, score: float) -> StudentFacts:
    """The facts after one more recorded completion of ``module`` with ``score``."""
    old = student.modules.get(module, ModuleFact())
    best = score if old.completed_score is None else max(old.completed_score, score)
    attempts = [s for s in (old.best_attempt_score, score) if s is not None]
    modules = dict(student.modules)
    modules[module] = ModuleFact(best, date(2026, 11, 1), max(attempts))
    return StudentFacts(modules=modules, evidence=student.evidence)


def all_outcomes(outcome):
    yield outcome
    for child in outcome.children:
        yield from all_outcomes(child)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(tree=trees, student=facts, module=st.sampled_from(MODULES), score=SCORES)
def test_a_new_completion_never_makes_a_ready_student_unready(tree, student, module, score):
    before = evaluate(tree, student, TITLES)
    after = evaluate(tree, with_completion(student, module, score), TITLES)
    if before.met:
        assert after.met
    assert after.progress >= before.progress - 1e-9


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(tree=trees, student=facts)
def test_progress_is_between_0_and_1_and_met_means_complete(tree, student):
    outcome = evaluate(tree, student, TITLES)
    for node in all_outcomes(outcome):
        assert 0.0 <= node.progress <= 1.0
        if node.met:
            assert node.progress == 1.0
        assert node.explanation


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(tree=trees, student=facts)
def test_verifying_evidence_never_makes_a_ready_student_unready(tree, student):
    before = evaluate(tree, student, TITLES)
    verified = StudentFacts(
        modules=student.modules, evidence={**student.evidence, "hs_diploma_or_ged": "verified"}
    )
    after = evaluate(tree, verified, TITLES)
    assert after.met or not before.met
    assert after.progress >= before.progress - 1e-9
