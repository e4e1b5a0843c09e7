"""The cohort matrix: every active student judged against the cohort's credential, with
at-risk flags, certificates, pending evidence and exam bookings; then one page of it, filtered
and sorted, with a cell for every requirement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import select

from lms.auth.models import User
from lms.credentials import rules
from lms.credentials import service as credentials
from lms.credentials.models import Certificate
from lms.db import among
from lms.enrollment import paging
from lms.enrollment.models import Cohort, Enrollment, EnrollmentStatus
from lms.enrollment.progress.plan import moved_dates, plan_items
from lms.enrollment.rules import plan as plan_rules
from lms.enrollment.rules import risk as risk_rules
from lms.extensions import db
from lms.ledger import service as ledger


@dataclass(frozen=True, slots=True)
class Column:
    """One requirement shown as a column of the cohort matrix."""

    key: str
    label: str
    title: str
    due: date | None = None


@dataclass(frozen=True, slots=True)
class Cell:
    """One student's standing on one requirement."""

    key: str
    state: str  # done / in_progress / not_started
    score: float | None  # best score, for a module
    label: str  # shown when there is no score
    explanation: str  # the sentence; a cohort page writes it only where ``detail`` shows it
    achieved_on: date | None = None
    overridden: bool = False

    @property
    def state_label(self) -> str:
        return self.state.replace("_", " ")

    @property
    def shows_sentence(self) -> bool:
        """Whether the cell cannot show what it says (evidence waiting or rejected, hours so
        far, a score outside its window ...): in progress with no score to show."""
        return self.state == "in_progress" and self.score is None and not self.overridden

    @property
    def detail(self) -> str:
        """The explanation, where the cell shows a sentence; empty elsewhere, where the score,
        the date and the state say it all (the student's record has every sentence)."""
        return self.explanation if self.shows_sentence else ""


class Student(NamedTuple):
    """Who a row of the matrix is about: what the page shows of the account."""

    id: int
    full_name: str
    email: str


class Awaiting(NamedTuple):
    """A student asked to join the cohort who has not accepted yet: who, and since when."""

    student: Student
    asked_at: datetime


@dataclass(frozen=True, slots=True)
class StudentRow:
    """One student's line of the cohort matrix; ``cells`` are filled for the rows shown."""

    student: Student
    progress: float
    ready: bool
    leaf_states: tuple[rules.State, ...]  # each requirement's state, in column order
    certificate: Certificate | None
    pending_evidence: Sequence[credentials.PendingEvidence]
    risk_reasons: Sequence[str] = ()
    exam_booked_on: date | None = None
    exam_fee_employer_paid: bool = False
    contact_hours: float = 0.0
    cells: tuple[Cell, ...] = ()

    @property
    def at_risk(self) -> bool:
        return bool(self.risk_reasons)

    @property
    def not_started(self) -> bool:
        return all(state is rules.State.NOT_STARTED for state in self.leaf_states)

    @property
    def booked_not_ready(self) -> bool:
        return self.exam_booked_on is not None and not self.ready


@dataclass(frozen=True)
class CohortProgress:
    """A cohort's students judged against its credential: everyone's verdict, flags and
    bookings; ``with_cells`` explains the rows to show."""

    cohort: Cohort
    requirement_version: int
    columns: list[Column]
    rows: list[StudentRow]
    today: date | None = None
    judgement: credentials.Judgement | None = None
    # the credential has no requirements yet: nobody is judged, the page says why
    no_requirements: credentials.NoRequirements | None = None
    # asked to join and not answered yet: listed apart, counted nowhere
    awaiting: Sequence[Awaiting] = ()

    @property
    def ready_count(self) -> int:
        return sum(1 for row in self.rows if row.ready)

    @property
    def at_risk_count(self) -> int:
        return sum(1 for row in self.rows if row.at_risk)

    @property
    def booked_not_ready_count(self) -> int:
        return sum(1 for row in self.rows if row.booked_not_ready)

    @property
    def pending_evidence(self) -> list[credentials.PendingEvidence]:
        return [evidence for row in self.rows for evidence in row.pending_evidence]

    @property
    def upcoming_exams(self) -> list[StudentRow]:
        """Students with a booked exam date from today on, soonest first."""
        today = self.today or date.min
        booked = [r for r in self.rows if r.exam_booked_on and r.exam_booked_on >= today]
        return sorted(booked, key=lambda r: (r.exam_booked_on, r.student.full_name.lower()))

    def with_cells(self, rows: list[StudentRow]) -> list[StudentRow]:
        """The given rows with a cell for every requirement (from the facts already loaded:
        no query). A cell is what ``evaluate`` finds of its leaf; the sentence is written
        only where the cell shows it (``Cell.detail``): the modules' cells, most of a page,
        come from their standing alone."""
        judgement = self.judgement
        if judgement is None:
            return rows
        leaves = list(zip(rules.leaves(judgement.tree), [c.key for c in self.columns], strict=True))
        shown = []
        for row in rows:
            facts = judgement.facts[row.student.id]
            cells = tuple(_cell(leaf, key, facts, judgement.titles) for leaf, key in leaves)
            shown.append(replace(row, cells=cells))
        return shown


DEFAULT_POLICY = risk_rules.RiskPolicy()
NOTHING: tuple = ()  # shared by the rows with no evidence pending or no risk


def policy_for(cohort: Cohort, default: risk_rules.RiskPolicy) -> risk_rules.RiskPolicy:
    """The cohort's at-risk policy: its own numbers where set, the default otherwise."""
    return risk_rules.RiskPolicy(
        failed_attempts=cohort.failed_attempts_limit or default.failed_attempts,
        inactivity_days=cohort.inactivity_days or default.inactivity_days,
    )


def cohort_progress(
    cohort: Cohort,
    *,
    now: datetime,
    default_policy: risk_rules.RiskPolicy = DEFAULT_POLICY,
    student_ids: Sequence[int] | None = None,
) -> CohortProgress:
    """Every active student's verdict, progress, at-risk reasons, certificate, pending
    evidence and exam booking, in a fixed number of queries. Readiness is judged for the whole
    cohort (the counts, filters and sorts need it); the cells, with their explanations, are
    made only for the rows shown (``CohortProgress.with_cells``). With ``student_ids``, only
    those of the cohort's students are judged (the read model's refresh, the page's rows)."""
    today = now.date()
    # Plain tuples, not ORM objects or rows: the garbage collector stops watching tuples of
    # plain values, but a thousand Users and Enrollments with their states it keeps watching
    # (and the page shows a name, an email and the booking).
    # The places awaiting the student's acceptance come in the same query: they are listed
    # by name only, and count nowhere (nor are their facts loaded).
    enrollments, awaiting = [], []
    for row in db.session.execute(
        select(
            User.id,
            User.full_name,
            User.email,
            Enrollment.enrolled_at,
            Enrollment.exam_booked_on,
            Enrollment.exam_fee_employer_paid,
            Enrollment.status,
        )
        .join(User, User.id == Enrollment.student_id)
        .where(
            Enrollment.cohort_id == cohort.id,
            Enrollment.status.in_([EnrollmentStatus.ACTIVE, EnrollmentStatus.PENDING]),
            *([] if student_ids is None else [among(Enrollment.student_id, student_ids)]),
        )
    ):
        if row[6] is EnrollmentStatus.PENDING:
            awaiting.append(Awaiting(Student(row[0], row[1], row[2]), row[3]))
        else:
            enrollments.append(tuple(row[:6]))
    enrollments.sort(key=lambda e: e[1].lower())  # by name
    awaiting.sort(key=lambda a: a.student.full_name.lower())
    student_ids = [e[0] for e in enrollments]
    try:
        judgement = credentials.judge_readiness(
            cohort.credential, student_ids, now, cohort_id=cohort.id
        )
    except credentials.NoRequirements as missing:
        return replace(_unjudged(cohort, enrollments, today, missing), awaiting=awaiting)
    tree = judgement.tree
    module_codes = [c for c in rules.module_codes(tree) if c in judgement.modules]
    plan = plan_items(
        cohort,
        {code: judgement.modules[code] for code in module_codes},
        moved_dates([cohort.id])[cohort.id],
    )
    due = {item.code: item.due for item in plan if item.due is not None}
    leaves = rules.leaves(tree)
    module_titles = {code: module.title for code, module in judgement.modules.items()}
    columns = [column_of(leaf, module_titles, due) for leaf in leaves]
    module_leaves: dict[str, tuple[int, ...]] = {}  # module code -> its leaves' positions
    for index, leaf in enumerate(leaves):
        if isinstance(leaf, rules.ModuleCompleted):
            module_leaves[leaf.module] = (*module_leaves.get(leaf.module, ()), index)
    certificates = credentials.latest_certificates(student_ids, cohort.credential_id)
    pending: dict[int, list[credentials.PendingEvidence]] = {}
    for evidence in credentials.pending_evidence_of(student_ids):
        pending.setdefault(evidence.student_id, []).append(evidence)
    last_recorded = ledger.last_recorded(student_ids)
    policy = policy_for(cohort, default_policy)
    # The at-risk rule looks only at modules due before today and at modules with failed
    # attempts, and asks of them only whether they are met. A late joiner's dates are the
    # plan's moved by the days they were late: the modules past due are the same for every
    # student who joined on the same day, so they are worked out once per joining day.
    past_due_by_day: dict[date, tuple[dict[str, date], list[tuple[str, tuple[int, ...]]]]] = {}
    done_state = rules.State.DONE
    rows = []
    for sid, full_name, email, enrolled_at, booked_on, employer_pays in enrollments:
        verdict = judgement.verdicts[sid]
        facts = judgement.facts[sid]
        states = verdict.leaf_states
        risk = NOTHING
        if not verdict.met:
            joined = enrolled_at.date()
            if joined not in past_due_by_day:
                own = plan_rules.own_due_dates(due, cohort.start_date, joined, cohort.exam_date)
                past_due = {code: when for code, when in own.items() if when < today}
                past_due_by_day[joined] = (
                    past_due,
                    [(code, module_leaves.get(code, ())) for code in past_due],
                )
            past_due, past_due_leaves = past_due_by_day[joined]
            recorded, submitted = last_recorded.get(sid), facts.last_submission_at
            # which of the modules the rule asks about are met
            done = {
                code
                for code, positions in past_due_leaves
                for i in positions
                if states[i] is done_state
            }
            for code in facts.failed_attempts:
                for i in module_leaves.get(code, ()):
                    if states[i] is done_state:
                        done.add(code)
            risk = risk_rules.risk_reasons(
                risk_rules.RiskFacts(
                    ready=False,
                    done=frozenset(done),
                    due=past_due,
                    failed_attempts=facts.failed_attempts,
                    last_activity=max(recorded, submitted)
                    if recorded and submitted
                    else recorded or submitted,
                    enrolled_at=enrolled_at,
                ),
                policy,
                today,
            )
        rows.append(
            StudentRow(
                student=Student(sid, full_name, email),
                progress=verdict.progress,
                ready=verdict.met,
                leaf_states=states,
                certificate=certificates.get(sid),
                pending_evidence=pending.get(sid, NOTHING),
                risk_reasons=risk,
                exam_booked_on=booked_on,
                exam_fee_employer_paid=employer_pays,
                contact_hours=facts.contact_hours.get(None, 0.0),
            )
        )
    return CohortProgress(
        cohort,
        judgement.requirement_set.version,
        columns,
        rows,
        today=today,
        judgement=judgement,
        awaiting=awaiting,
    )


def _unjudged(
    cohort: Cohort, enrollments: list[tuple], today: date, missing: credentials.NoRequirements
) -> CohortProgress:
    """A cohort whose credential has no requirements yet: its students listed, nobody ready
    or at risk, no columns; the page says why."""
    student_ids = [e[0] for e in enrollments]
    certificates = credentials.latest_certificates(student_ids, cohort.credential_id)
    pending: dict[int, list[credentials.PendingEvidence]] = {}
    for evidence in credentials.pending_evidence_of(student_ids):
        pending.setdefault(evidence.student_id, []).append(evidence)
    rows = [
        StudentRow(
            student=Student(sid, full_name, email),
            progress=0.0,
            ready=False,
            leaf_states=(),
            certificate=certificates.get(sid),
            pending_evidence=pending.get(sid, NOTHING),
            exam_booked_on=booked_on,
            exam_fee_employer_paid=employer_pays,
        )
        for sid, full_name, email, _, booked_on, employer_pays in enrollments
    ]
    return CohortProgress(cohort, 0, [], rows, today=today, no_requirements=missing)


FILTERS = {
    "all": "Everyone",
    "at_risk": "At risk",
    "ready": "Ready",
    "not_started": "Not started",
    "booked_not_ready": "Booked but not ready",
}
SORTS = {
    "name": "Name",
    "progress": "Progress, lowest first",
    "-progress": "Progress, highest first",
    "exam": "Booked exam date",
}


def select_rows(rows: list[StudentRow], show: str, sort: str) -> list[StudentRow]:
    """The rows a filter keeps, in the chosen order (unknown choices mean all / by name)."""
    keep = {
        "at_risk": lambda r: r.at_risk,
        "ready": lambda r: r.ready,
        "not_started": lambda r: r.not_started,
        "booked_not_ready": lambda r: r.booked_not_ready,
    }.get(show, lambda r: True)
    chosen = [row for row in rows if keep(row)]
    name = lambda r: r.student.full_name.lower()  # noqa: E731
    if sort == "progress":
        chosen.sort(key=lambda r: (r.progress, name(r)))
    elif sort == "-progress":
        chosen.sort(key=lambda r: (-r.progress, name(r)))
    elif sort == "exam":
        chosen.sort(key=lambda r: (r.exam_booked_on is None, r.exam_booked_on or date.max, name(r)))
    return chosen


@dataclass(frozen=True)
class MatrixPage:
    """The rows of one page of the matrix, after the filter and the sort, with their cells."""

    rows: list[StudentRow]
    window: paging.Window  # which page, of how many, of how many matching students
    links: list[int | None]  # page numbers to link to; None where numbers are left out


def matrix_page(
    result: CohortProgress, show: str, sort: str, page: int, per_page: int
) -> MatrixPage:
    """Filter and sort every student, then explain only the rows of ``page``. A page past the
    last has no rows (``window.exists`` is false)."""
    chosen = select_rows(result.rows, show, sort)
    shown = paging.window(len(chosen), page, per_page)
    return MatrixPage(
        rows=result.with_cells(chosen[shown.start : shown.stop]),
        window=shown,
        links=paging.page_links(min(page, shown.pages), shown.pages),
    )


def column_of(leaf: rules.Requirement, titles: dict[str, str], due: dict[str, date]) -> Column:
    """The column of a requirement leaf: its key, short label, title and due date."""
    key, label, title = rules.leaf_heading(leaf, titles)
    module = getattr(leaf, "module", None)
    return Column(key=key, label=label, title=title, due=due.get(module) if module else None)


_LABELS = {rules.State.DONE: "Verified", rules.State.IN_PROGRESS: "Pending"}


def cell_of(outcome: rules.Outcome | rules.Standing, key: str) -> Cell:
    """One student's cell for a requirement, from its outcome (or its standing: no
    sentence)."""
    if outcome.overridden:
        label = "Met (override)" if outcome.met else "Not met (override)"
    else:
        label = _LABELS.get(outcome.state, "—")
    return Cell(
        key=key,
        state=str(outcome.state),
        score=None if outcome.overridden else outcome.score,
        label=label,
        explanation=outcome.explanation if isinstance(outcome, rules.Outcome) else "",
        achieved_on=outcome.achieved_on,
        overridden=outcome.overridden,
    )


def _cell(leaf: rules.Leaf, key: str, facts: rules.StudentFacts, titles: dict[str, str]) -> Cell:
    """A leaf's cell: from its standing where its kind gives one and the cell shows no
    sentence, else from ``evaluate``."""
    standing = rules.standing(leaf, facts)
    if standing is None:
        return cell_of(rules.evaluate(leaf, facts, titles), key)
    cell = cell_of(standing, key)
    return cell_of(rules.evaluate(leaf, facts, titles), key) if cell.shows_sentence else cell
