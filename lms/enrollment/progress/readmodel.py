"""The cohort page's read model (``ProgressRow``): each active student's standing in each
cohort, judged by the readiness engine and written in the transaction of the fact that
changed it, so the page reads one page of rows instead of judging the whole cohort.

What keeps it current, each in its own transaction:

- a ledger entry (a quiz passed, evidence submitted, verified or rejected, an override
  granted or revoked, a real exam result): ``lms.enrollment.service.on_ledger_appended``;
- facts written without a ledger entry (a failed attempt, time on task, a new requirement
  set): the ledger's ``facts_changed`` signal, ``on_facts_changed``;
- the enrolment's own changes (enrolled, accepted, declined, withdrawn, moved), an exam
  booking, a cohort's settings or study plan: explicit calls in ``lms.enrollment``.

Verdicts that move with the date alone (a score leaving its window, a module falling due, a
student going quiet) carry ``valid_until``; ``refresh_expired`` (the command
``flask --app lms progress refresh``, run nightly) re-judges the rows past it, and
``rebuild`` (``flask --app lms progress rebuild``) judges everything again and reports every
row it had to change."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from flask import current_app, has_app_context
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import selectinload

from lms.credentials import outcomes, rules
from lms.db import among
from lms.enrollment.models import Cohort, Enrollment, EnrollmentStatus, ProgressRow
from lms.enrollment.progress.matrix import cohort_progress
from lms.enrollment.rules.risk import RiskPolicy
from lms.extensions import db

LETTERS = {rules.State.DONE: "d", rules.State.IN_PROGRESS: "p", rules.State.NOT_STARTED: "n"}
STATES = {letter: state for state, letter in LETTERS.items()}

#: The columns that make a row's verdict: a difference in any of them is a change to report.
VERDICT = (
    "requirement_version",
    "sort_name",
    "email",
    "progress",
    "ready",
    "not_started",
    "at_risk",
    "risk_reasons",
    "leaf_states",
    "contact_hours",
    "exam_booked_on",
    "booked_not_ready",
    "pending_evidence",
    "exam_sat",
    "exam_passed",
    "exam_passed_first",
)
BATCH = 2000  # students judged at a time when a whole cohort is refreshed


@dataclass(frozen=True)
class Change:
    """A row the refresh had to add, change or remove, and the columns that differed."""

    cohort_id: int
    student_id: int
    action: str  # added / changed / removed
    columns: tuple[str, ...] = ()

    def __str__(self) -> str:
        what = f" ({', '.join(self.columns)})" if self.columns else ""
        return f"cohort {self.cohort_id}, student {self.student_id}: {self.action}{what}"


def default_policy() -> RiskPolicy:
    """The school's default at-risk policy, from the configuration (the defaults outside an
    application)."""
    if not has_app_context():
        return RiskPolicy()
    config = current_app.config
    return RiskPolicy(
        failed_attempts=int(config.get("AT_RISK_FAILED_ATTEMPTS", 3)),
        inactivity_days=int(config.get("AT_RISK_INACTIVITY_DAYS", 14)),
    )


def next_midnight(now: datetime) -> datetime:
    """The start of the UTC day after ``now``: readiness and risk are judged by the date."""
    return datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(), tzinfo=UTC)


def _windowed(tree: rules.Requirement | None) -> bool:
    """Whether a verdict on this tree can change with the date alone even once it is met."""
    if tree is None:
        return False
    return any(getattr(leaf, "within_days", None) for leaf in rules.leaves(tree))


def judged_values(
    cohort: Cohort, now: datetime, policy: RiskPolicy, student_ids: Sequence[int] | None = None
) -> dict[int, dict]:
    """Each active student's row as the engine judges it now (``student_ids``: only these
    of the cohort's students), by student id; in a fixed number of queries."""
    result = cohort_progress(cohort, now=now, default_policy=policy, student_ids=student_ids)
    ids = [row.student.id for row in result.rows]
    sittings: dict[int, list[bool]] = {}
    for outcome in reversed(outcomes.outcomes_of(ids, cohort.credential_id) if ids else []):
        sittings.setdefault(outcome.student_id, []).append(outcome.passed)
    windowed = _windowed(result.judgement.tree if result.judgement else None)
    expires = next_midnight(now)
    values = {}
    for row in result.rows:
        sat = sittings.get(row.student.id, [])
        values[row.student.id] = {
            "cohort_id": cohort.id,
            "student_id": row.student.id,
            "requirement_version": result.requirement_version,
            "sort_name": row.student.full_name.lower()[:200],
            "email": row.student.email.lower(),
            "progress": round(row.progress, 6),
            "ready": row.ready,
            "not_started": row.not_started,
            "at_risk": row.at_risk,
            "risk_reasons": "\n".join(row.risk_reasons),
            "leaf_states": "".join(LETTERS[state] for state in row.leaf_states),
            "contact_hours": round(row.contact_hours, 4),
            "exam_booked_on": row.exam_booked_on,
            "booked_not_ready": row.booked_not_ready,
            "pending_evidence": len(row.pending_evidence),
            "exam_sat": bool(sat),
            "exam_passed": any(sat),
            "exam_passed_first": bool(sat) and sat[0],
            "judged_at": now,
            # a student not ready can fall behind with the date; a ready one only where a
            # score counts within a window; without requirements nothing moves with time
            "valid_until": expires
            if result.judgement is not None and (windowed or not row.ready)
            else None,
        }
    return values


def _stored(cohort_id: int, student_ids: Sequence[int] | None) -> dict[int, dict]:
    columns = [getattr(ProgressRow, name) for name in ("student_id", *VERDICT, "valid_until")]
    query = select(*columns).where(ProgressRow.cohort_id == cohort_id)
    if student_ids is not None:
        query = query.where(among(ProgressRow.student_id, student_ids))
    names = ("student_id", *VERDICT, "valid_until")
    return {row[0]: dict(zip(names, row, strict=True)) for row in db.session.execute(query)}


def _apply(cohort_id: int, judged: dict[int, dict], stored: dict[int, dict]) -> list[Change]:
    """Write the differences between what is judged and what is stored; the changes."""
    changes, added, changed = [], [], []
    for sid, values in judged.items():
        old = stored.get(sid)
        if old is None:
            added.append(values)
            changes.append(Change(cohort_id, sid, "added"))
            continue
        differ = tuple(name for name in VERDICT if old[name] != values[name])
        if differ:
            changes.append(Change(cohort_id, sid, "changed", differ))
        if differ or old["valid_until"] != values["valid_until"]:
            changed.append(values)
    gone = [sid for sid in stored if sid not in judged]
    changes.extend(Change(cohort_id, sid, "removed") for sid in gone)
    if added:
        db.session.execute(insert(ProgressRow), added)
    if changed:
        db.session.execute(update(ProgressRow), changed)  # by primary key, in one statement
    if gone:
        db.session.execute(
            delete(ProgressRow).where(
                ProgressRow.cohort_id == cohort_id, among(ProgressRow.student_id, gone)
            )
        )
    return changes


def _cohorts(cohort_ids: Iterable[int] | None) -> list[Cohort]:
    query = select(Cohort).options(selectinload(Cohort.credential)).order_by(Cohort.id)
    if cohort_ids is not None:
        query = query.where(among(Cohort.id, list(cohort_ids)))
    return list(db.session.scalars(query))


def refresh_students(student_ids: Iterable[int], now: datetime) -> list[Change]:
    """Judge the students again in every cohort they have a place or a row in."""
    ids = sorted(set(student_ids))
    if not ids:
        return []
    cohort_ids = set(
        db.session.scalars(select(Enrollment.cohort_id).where(among(Enrollment.student_id, ids)))
    )
    cohort_ids |= set(
        db.session.scalars(select(ProgressRow.cohort_id).where(among(ProgressRow.student_id, ids)))
    )
    policy, changes = default_policy(), []
    for cohort in _cohorts(sorted(cohort_ids)):
        judged = judged_values(cohort, now, policy, ids)
        changes += _apply(cohort.id, judged, _stored(cohort.id, ids))
    db.session.flush()
    return changes


def refresh_cohorts(cohort_ids: Iterable[int] | None, now: datetime) -> list[Change]:
    """Judge every student of the cohorts again (``None``: of every cohort), ``BATCH`` at a
    time; rows of students no longer active there are removed."""
    policy, changes = default_policy(), []
    for cohort in _cohorts(cohort_ids):
        active = list(
            db.session.scalars(
                select(Enrollment.student_id).where(
                    Enrollment.cohort_id == cohort.id,
                    Enrollment.status == EnrollmentStatus.ACTIVE,
                )
            )
        )
        stored_ids = set(
            db.session.scalars(
                select(ProgressRow.student_id).where(ProgressRow.cohort_id == cohort.id)
            )
        )
        leftover = sorted(stored_ids - set(active))
        if leftover:
            changes += _apply(cohort.id, {}, {sid: {} for sid in leftover})
        for start in range(0, len(active), BATCH):
            batch = active[start : start + BATCH]
            judged = judged_values(cohort, now, policy, batch)
            changes += _apply(cohort.id, judged, _stored(cohort.id, batch))
    db.session.flush()
    return changes


def refresh_credential(credential_id: int, now: datetime) -> list[Change]:
    """Judge every cohort aimed at the credential again (its requirements changed)."""
    ids = list(db.session.scalars(select(Cohort.id).where(Cohort.credential_id == credential_id)))
    return refresh_cohorts(ids, now) if ids else []


def refresh_expired(now: datetime) -> list[Change]:
    """Judge again the rows whose verdict may have moved with the date (``valid_until``
    passed); what the nightly ``progress refresh`` runs."""
    expired = db.session.execute(
        select(ProgressRow.cohort_id, ProgressRow.student_id).where(ProgressRow.valid_until <= now)
    ).all()
    by_cohort: dict[int, list[int]] = {}
    for cohort_id, student_id in expired:
        by_cohort.setdefault(cohort_id, []).append(student_id)
    policy, changes = default_policy(), []
    for cohort in _cohorts(sorted(by_cohort)):
        ids = by_cohort[cohort.id]
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            judged = judged_values(cohort, now, policy, batch)
            changes += _apply(cohort.id, judged, _stored(cohort.id, batch))
    db.session.flush()
    return changes


def rebuild(now: datetime) -> list[Change]:
    """Judge every student of every cohort again from the ledger and the other facts, and
    write what differs: the changes are what the model had wrong (or had not yet)."""
    return refresh_cohorts(None, now)
