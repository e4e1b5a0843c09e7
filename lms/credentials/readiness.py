"""Readiness: a credential's current requirements judged for many students at once, with
every explanation (``evaluate_readiness``) or verdicts only (``judge_readiness``), and the
information-only paths beside them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from lms.courses import reads as courses
from lms.courses.models import Module
from lms.credentials import catalogue, rules
from lms.credentials.facts import gather_facts
from lms.credentials.models import Credential, RequirementSet
from lms.ledger import service as ledger


@dataclass(frozen=True)
class Readiness:
    """A credential's requirements judged for a group of students, with every explanation:
    what a certificate is issued on."""

    credential: Credential
    requirement_set: RequirementSet
    tree: rules.Requirement
    modules: dict[str, Module]  # by code, for the modules the tree names
    outcomes: dict[int, rules.Outcome]  # by student id
    # the information-only path beside the requirements (see ``information_outcomes``), by
    # student id, when asked for and the credential has one
    information: dict[int, rules.Outcome] = field(default_factory=dict)


@dataclass(frozen=True)
class Judgement:
    """A credential's requirements judged for many students, verdicts only (met, progress,
    each leaf's state), with the facts they came from: ``rules.evaluate`` on ``tree``, a
    student's ``facts`` and ``titles`` explains any of them (``rules.standing`` one leaf,
    without the sentence) with no other query."""

    credential: Credential
    requirement_set: RequirementSet
    tree: rules.Requirement
    modules: dict[str, Module]  # by code, for the modules the tree names
    titles: dict[str, str]  # module and course titles, for explanations
    facts: dict[int, rules.StudentFacts]  # by student id
    verdicts: dict[int, rules.Verdict]  # by student id


@dataclass(frozen=True)
class _Named:
    """The modules and courses a tree names, with their titles for the explanations."""

    modules: dict[str, Module]
    course_modules: dict[str, tuple[str, dict[int, str]]]
    titles: dict[str, str]


def _named(needs: rules.Needs) -> _Named:
    modules = courses.modules_by_code(needs.modules)
    course_modules = courses.module_codes_of_courses(needs.courses)
    titles = {code: module.title for code, module in modules.items()}
    titles.update({code: title for code, (title, _) in course_modules.items()})
    return _Named(modules, course_modules, titles)


def _facts(
    student_ids: list[int],
    needs: rules.Needs,
    named: _Named,
    now: datetime,
    overrides_in: ledger.OverrideScope,
) -> dict[int, rules.StudentFacts]:
    return gather_facts(
        student_ids,
        named.modules,
        course_modules=named.course_modules,
        now=now,
        overrides_in=overrides_in,
        needs=needs,
    )


@dataclass(frozen=True)
class Requirements:
    """A credential's current requirement tree (and its information-only path, when asked
    for) and what they name, loaded once."""

    credential: Credential
    requirement_set: RequirementSet
    tree: rules.Requirement
    information: rules.Requirement | None
    named: _Named  # at least what the trees name (shared when loaded with others)

    def needs(self) -> rules.Needs:
        """What judging the tree, and the information path, needs."""
        needs = self.tree.needs()
        return needs | self.information.needs() if self.information else needs

    def scope(self, cohort_id: int | None) -> ledger.OverrideScope:
        """Where the overrides that count come from, judged in ``cohort_id`` (None: outside
        any cohort)."""
        return ledger.OverrideScope(cohort_id, self.credential.id)

    def facts(
        self,
        student_ids: list[int],
        now: datetime,
        also: rules.Needs | None = None,
        *,
        cohort_id: int | None,
    ) -> dict[int, rules.StudentFacts]:
        """The facts the trees need (and ``also`` these) of the students, with the overrides
        that count in ``cohort_id``."""
        needs = self.needs() | also if also else self.needs()
        return _facts(student_ids, needs, self.named, now, self.scope(cohort_id))

    def judged(self, facts: dict[int, rules.StudentFacts]) -> Readiness:
        """The tree (and the information path) judged on the facts, with every sentence."""
        titles, path = self.named.titles, self.information
        modules = self.named.modules
        return Readiness(
            self.credential,
            self.requirement_set,
            self.tree,
            {code: modules[code] for code in self.needs().modules if code in modules},
            {sid: rules.evaluate(self.tree, facts[sid], titles) for sid in facts},
            {sid: rules.evaluate(path, facts[sid], titles) for sid in facts} if path else {},
        )


def load_requirements_of(
    credentials: Iterable[Credential], *, information: bool = False
) -> dict[int, Requirements]:
    """The current requirements of each credential that has some (with ``information``,
    their information-only paths too), by credential id, and the modules and courses they
    name: three queries at most, however many credentials."""
    credentials = list(credentials)
    sets = catalogue.newest_requirement_sets(c.id for c in credentials)
    trees = {}
    needs = rules.Needs()
    for credential in credentials:
        if credential.id in sets:
            tree = rules.parse_requirements(sets[credential.id].tree)
            path = catalogue.information_tree(credential) if information else None
            trees[credential.id] = (credential, tree, path)
            needs = needs | tree.needs() | (path.needs() if path else rules.Needs())
    named = _named(needs)
    return {
        cid: Requirements(credential, sets[cid], tree, path, named)
        for cid, (credential, tree, path) in trees.items()
    }


def load_requirements(credential: Credential, *, information: bool = False) -> Requirements:
    """``load_requirements_of`` one credential; ``Conflict`` when it has no requirements."""
    required = load_requirements_of([credential], information=information).get(credential.id)
    if required is None:
        raise catalogue.no_requirements(credential)
    return required


def evaluate_readiness(
    credential: Credential,
    student_ids: Iterable[int],
    now: datetime,
    *,
    cohort_id: int | None = None,
    information: bool = False,
) -> Readiness:
    """Judge every student against the credential's current requirements in a fixed number
    of queries, however many students there are; with ``information``, the information-only
    path beside them too, from the same facts.

    ``now`` dates requirements "within the last N days": the caller reads the clock, once
    per request, so every verdict of a page is judged at the same instant. ``cohort_id`` is
    the cohort the students are judged in: the overrides recorded there count, no other
    cohort's (None: judged outside any cohort; see ``ledger.OverrideScope``)."""
    required = load_requirements(credential, information=information)
    return required.judged(required.facts(list(student_ids), now, cohort_id=cohort_id))


def evaluate_readiness_in(
    cohorts: Iterable[tuple[Credential, int | None]], student_ids: Iterable[int], now: datetime
) -> list[tuple[int | None, Readiness]]:
    """``evaluate_readiness`` of each (credential, cohort id) pair, with the cohort: the
    requirements loaded and the facts gathered once, the overrides read again only for each
    further cohort. A credential without requirements is left out (nobody is ready for it
    yet)."""
    cohorts = list(cohorts)
    loaded = load_requirements_of(credential for credential, _ in cohorts)
    wanted = [(loaded[c.id], cohort_id) for c, cohort_id in cohorts if c.id in loaded]
    if not wanted:
        return []
    needs = rules.Needs()
    for required, _ in wanted:
        needs = needs | required.needs()
    ids = list(student_ids)
    first = wanted[0][0].scope(wanted[0][1])
    facts = _facts(ids, needs, wanted[0][0].named, now, first)
    result = []
    for required, cohort_id in wanted:
        scope = required.scope(cohort_id)
        if scope != first:
            overrides = ledger.current_overrides(ids, scope)
            facts_here = {sid: replace(f, overrides=overrides[sid]) for sid, f in facts.items()}
        else:
            facts_here = facts
        result.append((cohort_id, required.judged(facts_here)))
    return result


def judge_readiness(
    credential: Credential,
    student_ids: Iterable[int],
    now: datetime,
    *,
    cohort_id: int | None = None,
) -> Judgement:
    """Verdicts for every student against the credential's current requirements, in the same
    fixed number of queries as ``evaluate_readiness`` and a fraction of its time: what a
    cohort's counts, filters and sorts need. Explain a student from ``Judgement.facts``.
    The overrides that count are those recorded in ``cohort_id``."""
    return next(
        judge_readiness_in_batches(
            credential, student_ids, now, cohort_id=cohort_id, batch_size=None
        )
    )


# A cohort's matrix shows every student's contact hours, whatever the tree asks.
_MATRIX_NEEDS = rules.Needs(hours=True)


def judge_readiness_in_batches(
    credential: Credential,
    student_ids: Iterable[int],
    now: datetime,
    *,
    cohort_id: int | None = None,
    batch_size: int | None = 2000,
) -> Iterator[Judgement]:
    """``judge_readiness`` for any number of students, ``batch_size`` at a time (``None``: all
    at once): the requirements are loaded once, the facts per batch, so memory and the size
    of each query stay bounded. Yields one ``Judgement`` per batch (one, empty, for none).
    The facts include each student's contact hours, for the cohort's matrix."""
    required = load_requirements(credential)
    judge = rules.Judge(required.tree)
    student_ids = list(student_ids)
    size = batch_size or max(1, len(student_ids))
    for start in range(0, max(1, len(student_ids)), size):
        batch = student_ids[start : start + size]
        facts = required.facts(batch, now, _MATRIX_NEEDS, cohort_id=cohort_id)
        yield Judgement(
            credential,
            required.requirement_set,
            required.tree,
            required.named.modules,
            required.named.titles,
            facts,
            {sid: judge(facts[sid]) for sid in batch},
        )


def information_outcomes(
    credentials: Sequence[Credential], student_id: int, now: datetime
) -> list[tuple[Credential, rules.Outcome]]:
    """The information-only paths beside the credentials (AAPC's apprentice removal for CPC
    and COC), judged for a student from one gathering of facts; a credential without one,
    or with the code of one before it, is left out. They never decide readiness, and no
    cohort's override counts in them (they are judged outside any cohort)."""
    paths: dict[str, tuple[Credential, rules.Requirement]] = {}
    for credential in credentials:
        tree = catalogue.information_tree(credential)
        if tree is not None and credential.code not in paths:
            paths[credential.code] = (credential, tree)
    if not paths:
        return []
    needs = rules.Needs()
    for _, tree in paths.values():
        needs = needs | tree.needs()
    named = _named(needs)
    facts = _facts([student_id], needs, named, now, ledger.OverrideScope(None, None))[student_id]
    return [
        (credential, rules.evaluate(tree, facts, named.titles))
        for credential, tree in paths.values()
    ]
