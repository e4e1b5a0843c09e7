"""Views of progress built on cohorts: the matrix, at-risk flags, the study plan, the chart
and the student dashboard. Each loads a cohort's facts in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.auth.models import User
from lms.courses import reads as courses
from lms.courses.models import Module
from lms.credentials import rules
from lms.credentials import service as credentials
from lms.credentials.models import Certificate, Credential
from lms.db import utcnow
from lms.enrollment import chart, paging
from lms.enrollment import rules as cohort_rules
from lms.enrollment.models import Cohort, Enrollment, EnrollmentStatus, PlannedDueDate
from lms.extensions import db
from lms.ledger import service as ledger


def active_enrollments(student: User) -> list[Enrollment]:
    """The cohorts a student is in now, with their credentials."""
    return list(
        db.session.scalars(
            select(Enrollment)
            .where(
                Enrollment.student_id == student.id,
                Enrollment.status == EnrollmentStatus.ACTIVE,
            )
            .options(selectinload(Enrollment.cohort).selectinload(Cohort.credential))
            .order_by(Enrollment.enrolled_at)
        )
    )


# --- study plan --------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanItem:
    """One required module of the study plan and when it is due."""

    code: str
    title: str
    minutes: int
    computed_due: date | None
    due: date | None
    moved: bool


def _plan(cohort: Cohort, modules: dict[str, Module], moved: dict[str, date]) -> list[PlanItem]:
    planned = [cohort_rules.PlannedModule(code, m.estimated_minutes) for code, m in modules.items()]
    computed = cohort_rules.plan_due_dates(cohort.start_date, cohort.exam_date, planned)
    return [
        PlanItem(
            code=code,
            title=module.title,
            minutes=module.estimated_minutes,
            computed_due=computed.get(code),
            due=moved.get(code, computed.get(code)),
            moved=code in moved,
        )
        for code, module in modules.items()
    ]


def _moved_dates(cohort_ids: list[int]) -> dict[int, dict[str, date]]:
    result: dict[int, dict[str, date]] = {cid: {} for cid in cohort_ids}
    if cohort_ids:
        rows = db.session.execute(
            select(
                PlannedDueDate.cohort_id, PlannedDueDate.module_code, PlannedDueDate.due_on
            ).where(PlannedDueDate.cohort_id.in_(cohort_ids))
        )
        for cohort_id, code, due_on in rows:
            result[cohort_id][code] = due_on
    return result


def study_plan(cohort: Cohort) -> list[PlanItem]:
    """Every required module of the cohort's credential with its due date, in tree order."""
    requirement_set = credentials.current_requirement_set(cohort.credential)
    tree = rules.parse_requirements(requirement_set.tree)
    modules = courses.modules_by_code(rules.module_codes(tree))
    ordered = {code: modules[code] for code in rules.module_codes(tree) if code in modules}
    return _plan(cohort, ordered, _moved_dates([cohort.id])[cohort.id])


# --- the matrix --------------------------------------------------------------------------


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
    explanation: str
    achieved_on: date | None = None
    overridden: bool = False

    @property
    def state_label(self) -> str:
        return self.state.replace("_", " ")

    @property
    def detail(self) -> str:
        """The explanation, where the cell cannot show what it says (evidence waiting or
        rejected, hours so far, a score outside its window ...); empty elsewhere, where the
        score, the date and the state say it all (the student's record has every sentence)."""
        if self.state == "in_progress" and self.score is None and not self.overridden:
            return self.explanation
        return ""


class Student(NamedTuple):
    """Who a row of the matrix is about: what the page shows of the account."""

    id: int
    full_name: str
    email: str


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
    student_number: str | None = None
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
    plan: list[PlanItem] = field(default_factory=list)
    today: date | None = None
    judgement: credentials.Judgement | None = None

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
        """The given rows with a cell for every requirement, explanations and all (from the
        facts already loaded: no query)."""
        if self.judgement is None:
            return rows
        keys = [column.key for column in self.columns]
        shown = []
        for row in rows:
            leaves = self.judgement.outcome(row.student.id).leaf_outcomes()
            cells = tuple(_cell(leaf, key) for leaf, key in zip(leaves, keys, strict=True))
            shown.append(replace(row, cells=cells))
        return shown


DEFAULT_POLICY = cohort_rules.RiskPolicy()
NOTHING: tuple = ()  # shared by the rows with no evidence pending or no risk


def policy_for(cohort: Cohort, default: cohort_rules.RiskPolicy) -> cohort_rules.RiskPolicy:
    """The cohort's at-risk policy: its own numbers where set, the default otherwise."""
    return cohort_rules.RiskPolicy(
        failed_attempts=cohort.failed_attempts_limit or default.failed_attempts,
        inactivity_days=cohort.inactivity_days or default.inactivity_days,
    )


def cohort_progress(
    cohort: Cohort,
    *,
    today: date | None = None,
    default_policy: cohort_rules.RiskPolicy = DEFAULT_POLICY,
) -> CohortProgress:
    """Every active student's verdict, progress, at-risk reasons, certificate, pending
    evidence and exam booking, in a fixed number of queries. Readiness is judged for the whole
    cohort (the counts, filters and sorts need it); the cells, with their explanations, are
    made only for the rows shown (``CohortProgress.with_cells``)."""
    today = today or utcnow().date()
    # Plain tuples, not ORM objects or rows: the garbage collector stops watching tuples of
    # plain values, but a thousand Users and Enrollments with their states it keeps watching
    # (and the page shows a name, an email and the booking).
    enrollments = [
        tuple(row)
        for row in db.session.execute(
            select(
                User.id,
                User.full_name,
                User.email,
                Enrollment.enrolled_at,
                Enrollment.exam_booked_on,
                Enrollment.exam_fee_employer_paid,
                Enrollment.student_number,
            )
            .join(User, User.id == Enrollment.student_id)
            .where(Enrollment.cohort_id == cohort.id, Enrollment.status == EnrollmentStatus.ACTIVE)
        )
    ]
    enrollments.sort(key=lambda e: e[1].lower())  # by name
    student_ids = [e[0] for e in enrollments]
    judgement = credentials.judge_readiness(cohort.credential, student_ids)
    tree = judgement.tree
    module_codes = [c for c in rules.module_codes(tree) if c in judgement.modules]
    plan = _plan(
        cohort,
        {code: judgement.modules[code] for code in module_codes},
        _moved_dates([cohort.id])[cohort.id],
    )
    due = {item.code: item.due for item in plan if item.due is not None}
    leaves = rules.leaves(tree)
    module_titles = {code: module.title for code, module in judgement.modules.items()}
    columns = [_column(leaf, module_titles, due) for leaf in leaves]
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
    # The at-risk rule looks only at modules due before today (the same for every student)
    # and at modules with failed attempts, and asks of them only whether they are met.
    past_due = {code: when for code, when in due.items() if when < today}
    past_due_leaves = [(code, module_leaves.get(code, ())) for code in past_due]
    done_state = rules.State.DONE
    rows = []
    for sid, full_name, email, enrolled_at, booked_on, employer_pays, number in enrollments:
        verdict = judgement.verdicts[sid]
        facts = judgement.facts[sid]
        states = verdict.leaf_states
        risk = NOTHING
        if not verdict.met:
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
            risk = cohort_rules.risk_reasons(
                cohort_rules.RiskFacts(
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
                student_number=number,
                contact_hours=facts.contact_hours.get(None, 0.0),
            )
        )
    return CohortProgress(
        cohort,
        judgement.requirement_set.version,
        columns,
        rows,
        plan=plan,
        today=today,
        judgement=judgement,
    )


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


def _column(leaf: rules.Requirement, titles: dict[str, str], due: dict[str, date]) -> Column:
    key, label, title = rules.leaf_heading(leaf, titles)
    module = getattr(leaf, "module", None)
    return Column(key=key, label=label, title=title, due=due.get(module) if module else None)


_LABELS = {rules.State.DONE: "Verified", rules.State.IN_PROGRESS: "Pending"}


def _cell(outcome: rules.Outcome, key: str) -> Cell:
    if outcome.overridden:
        label = "Met (override)" if outcome.met else "Not met (override)"
    else:
        label = _LABELS.get(outcome.state, "—")
    return Cell(
        key=key,
        state=str(outcome.state),
        score=None if outcome.overridden else outcome.score,
        label=label,
        explanation=outcome.explanation,
        achieved_on=outcome.achieved_on,
        overridden=outcome.overridden,
    )


# --- chart -------------------------------------------------------------------------------


def progress_chart(cohort: Cohort, today: date) -> tuple[list[chart.Point], str]:
    """The cohort's share ready and median completion over time, and its SVG."""
    student_ids = list(
        db.session.scalars(
            select(Enrollment.student_id).where(
                Enrollment.cohort_id == cohort.id, Enrollment.status == EnrollmentStatus.ACTIVE
            )
        )
    )
    judgement = credentials.judge_readiness(cohort.credential, student_ids)
    end = min(today, cohort.exam_date) if cohort.exam_date else today
    points = chart.progress_series(
        judgement.tree, judgement.facts, chart.sample_days(cohort.start_date, end)
    )
    return points, chart.render_svg(points, f"Progress of {cohort.name} over time")


# --- the student's dashboard -------------------------------------------------------------


@dataclass(frozen=True)
class CredentialProgress:
    """A student's standing on the credential of one of their cohorts."""

    cohort: Cohort
    credential: Credential
    requirement_version: int
    outcome: rules.Outcome
    modules: list[tuple[Module, rules.Outcome]]  # each required module and its verdict
    certificate: Certificate | None
    enrollment: Enrollment | None = None
    due: dict[str, date] = field(default_factory=dict)
    this_week: list[tuple[Module, date, bool]] = field(default_factory=list)  # overdue?


def student_dashboard(student: User, today: date | None = None) -> list[CredentialProgress]:
    """For each cohort the student is in: progress, what is missing, what is due this week,
    the exam booking and the certificate."""
    today = today or utcnow().date()
    certificates = credentials.certificates_of([student.id])
    enrollments = active_enrollments(student)
    moved = _moved_dates([e.cohort_id for e in enrollments])
    result = []
    for enrollment in enrollments:
        cohort = enrollment.cohort
        credential = cohort.credential
        readiness = credentials.evaluate_readiness(credential, [student.id])
        outcome = readiness.outcomes[student.id]
        certificate = next(
            (c for c in certificates if c.requirement_set_id == readiness.requirement_set.id), None
        )
        codes = [c for c in rules.module_codes(readiness.tree) if c in readiness.modules]
        plan = _plan(cohort, {c: readiness.modules[c] for c in codes}, moved[cohort.id])
        due = {item.code: item.due for item in plan if item.due is not None}
        done = {
            leaf.requirement.module
            for leaf in outcome.leaf_outcomes()
            if leaf.met and isinstance(leaf.requirement, rules.ModuleCompleted)
        }
        result.append(
            CredentialProgress(
                cohort=cohort,
                credential=credential,
                requirement_version=readiness.requirement_set.version,
                outcome=outcome,
                modules=[
                    (readiness.modules[leaf.requirement.module], leaf)
                    for leaf in outcome.leaf_outcomes()
                    if isinstance(leaf.requirement, rules.ModuleCompleted)
                    and leaf.requirement.module in readiness.modules
                ],
                certificate=certificate,
                enrollment=enrollment,
                due=due,
                this_week=[
                    (readiness.modules[code], due[code], due[code] < today)
                    for code in cohort_rules.due_this_week(due, done, today)
                ],
            )
        )
    return result


# --- one student's record in a cohort ----------------------------------------------------


@dataclass(frozen=True)
class OverrideLine:
    """One override entry of the ledger, as shown on a student's record."""

    entry_id: int
    key: str
    label: str
    action: str  # "Marked met", "Marked not met", "Reversed"
    reason: str
    actor_name: str
    recorded_at: datetime


@dataclass(frozen=True)
class StudentRecord:
    """A student's standing in one cohort: each requirement, overrides, and history."""

    student: User
    enrollment: Enrollment
    columns: list[Column]
    cells: list[Cell]
    progress: float
    ready: bool
    overrides: list[OverrideLine]
    standing_overrides: dict[str, bool]


def student_record(cohort: Cohort, enrollment: Enrollment) -> StudentRecord:
    """One student's verdicts on the cohort's requirements and their override ledger."""
    student = enrollment.student
    readiness = credentials.evaluate_readiness(cohort.credential, [student.id])
    outcome = readiness.outcomes[student.id]
    titles = {code: module.title for code, module in readiness.modules.items()}
    columns = [_column(leaf, titles, {}) for leaf in rules.leaves(readiness.tree)]
    labels = {column.key: f"{column.label}: {column.title}" for column in columns}
    lines = []
    for entry in ledger.override_entries([student.id]):
        if entry.kind.value == "override_revoked":
            action = "Reversed"
        elif entry.source == ledger.OVERRIDE_MET:
            action = "Marked met"
        else:
            action = "Marked not met"
        lines.append(
            OverrideLine(
                entry_id=entry.id,
                key=entry.source_ref or "",
                label=labels.get(entry.source_ref or "", entry.source_ref or ""),
                action=action,
                reason=entry.note or "",
                actor_name=entry.actor.full_name if entry.actor else "the system",
                recorded_at=entry.recorded_at,
            )
        )
    return StudentRecord(
        student=student,
        enrollment=enrollment,
        columns=columns,
        cells=[
            _cell(leaf, column.key)
            for leaf, column in zip(outcome.leaf_outcomes(), columns, strict=True)
        ],
        progress=outcome.progress,
        ready=outcome.met,
        overrides=lines,
        standing_overrides=ledger.current_overrides([student.id])[student.id],
    )
