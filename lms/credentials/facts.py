"""What is gathered about students for the readiness engine: completions, attempts, evidence,
contact hours and overrides, for many students at once in a fixed number of queries."""

from __future__ import annotations

from datetime import date, datetime
from types import MappingProxyType

from sqlalchemy import select

from lms.courses import reads as courses
from lms.courses.models import Module
from lms.credentials import rules
from lms.credentials.models import Evidence, EvidenceStatus
from lms.db import among
from lms.extensions import db
from lms.ledger import service as ledger

# Where a student has several pieces of evidence of a kind, the best state counts.
_RANK = {EvidenceStatus.VERIFIED: 3, EvidenceStatus.SUBMITTED: 2, EvidenceStatus.REJECTED: 1}


class _EvidenceFacts:
    """Each student's best evidence state by kind, verified experience periods, and who has
    experience waiting for review, in one query."""

    def __init__(self, student_ids: list[int]) -> None:
        self.states: dict[int, dict[str, str]] = {}
        self.periods: dict[int, list[tuple[date, date]]] = {}
        self.pending: set[int] = set()
        if not student_ids:
            return
        rows = db.session.execute(
            select(
                Evidence.student_id,
                Evidence.kind,
                Evidence.status,
                Evidence.started_on,
                Evidence.ended_on,
            ).where(among(Evidence.student_id, student_ids))
        )
        for student_id, kind, status, started_on, ended_on in rows:
            held = self.states.setdefault(student_id, {})
            current = held.get(kind.value)
            if current is None or _RANK[status] > _RANK[EvidenceStatus(current)]:
                held[kind.value] = status.value
            if kind is rules.EvidenceKind.EXPERIENCE:
                if status is EvidenceStatus.VERIFIED and started_on and ended_on:
                    self.periods.setdefault(student_id, []).append((started_on, ended_on))
                elif status is EvidenceStatus.SUBMITTED:
                    self.pending.add(student_id)


def _course_facts(
    known: rules.ModuleFacts, course_modules: dict[str, tuple[str, dict[int, str]]]
) -> dict[str, rules.CourseFact]:
    result = {}
    for course_code, (_, members) in course_modules.items():
        dates = [
            known[code].completed_on
            for code in members.values()
            if code in known and known[code].completed_on is not None
        ]
        complete = bool(members) and len(dates) == len(members)
        result[course_code] = rules.CourseFact(
            modules_done=len(dates),
            modules_total=len(members),
            completed_on=max(dates) if complete else None,
        )
    return result


def gather_facts(
    student_ids: list[int],
    modules: dict[str, Module],
    *,
    course_modules: dict[str, tuple[str, dict[int, str]]] | None = None,
    now: datetime,
    overrides_in: ledger.OverrideScope,
    needs: rules.Needs | None = None,
) -> dict[int, rules.StudentFacts]:
    """The facts the readiness rules need, for many students at once (at most seven queries,
    whatever the number of students). The overrides are those that count in
    ``overrides_in``: the cohort readiness is judged in (see ``ledger.OverrideScope``).

    ``modules`` and ``course_modules`` are those the trees name. ``needs`` says what else to
    gather (see ``rules.Needs``): the modules whose every scored attempt counts (those of
    ``assessment_score`` leaves; for the others the best score is enough), evidence, contact
    hours (the total, and per course for the courses named). ``None`` gathers everything:
    every attempt, evidence, and every course's hours."""
    course_modules = course_modules or {}
    code_of = {module.id: code for code, module in modules.items()}
    for _, members in course_modules.values():
        code_of.update(members)
    # Containers per student only where there is something to hold: empty ones for a
    # thousand students are garbage-collector work for nothing (see rules.ModuleFacts).
    # code -> (completed score, completed on, best attempt score), plain tuples
    module_rows: dict[int, dict[str, tuple]] = {}
    for student_id, module_id, best, first in ledger.stream_best_completions(student_ids, code_of):
        module_rows.setdefault(student_id, {})[code_of[module_id]] = (best, first, None)
    summary = courses.attempt_summary(student_ids, code_of)
    failed_attempts: dict[int, dict[str, int]] = {}
    for student_id, module_id, best, failed in summary.by_module:
        code, rows = code_of[module_id], module_rows.setdefault(student_id, {})
        known = rows.get(code)
        rows[code] = (None, None, best) if known is None else (known[0], known[1], best)
        if failed:
            failed_attempts.setdefault(student_id, {})[code] = failed
    attempts: dict[int, dict[str, list[rules.AttemptFact]]] = {}
    wanted = set(code_of.values() if needs is None else needs.assessed)
    assessed_ids = [module_id for module_id, code in code_of.items() if code in wanted]
    for student_id, module_id, score, submitted_at in courses.attempt_scores(
        student_ids, assessed_ids
    ):
        attempts.setdefault(student_id, {}).setdefault(code_of[module_id], []).append(
            rules.AttemptFact(score=score, on=submitted_at.date())
        )
    evidence = _EvidenceFacts(student_ids if needs is None or needs.evidence else [])
    if needs is None:
        hours = courses.contact_hours_facts(student_ids)
    elif needs.hours:
        hours = courses.contact_hours_facts(student_ids, needs.hour_courses)
    else:
        hours = {}
    as_of = now.date()
    overrides = ledger.current_overrides(student_ids, overrides_in)
    result = {}
    nothing = MappingProxyType({})  # shared by the students with nothing of a kind
    for sid in student_ids:
        known = rules.ModuleFacts(module_rows.get(sid, nothing))
        assessed_by = attempts.get(sid)
        periods = evidence.periods.get(sid)
        result[sid] = rules.StudentFacts(
            modules=known,
            evidence=evidence.states.get(sid, nothing),
            courses=_course_facts(known, course_modules) if course_modules else nothing,
            attempts={c: tuple(a) for c, a in assessed_by.items()} if assessed_by else nothing,
            experience_months=rules.experience_months(periods) if periods else 0,
            experience_pending=sid in evidence.pending,
            as_of=as_of,
            contact_hours=hours.get(sid, nothing),
            overrides=overrides[sid],
            failed_attempts=failed_attempts.get(sid, nothing),
            last_submission_at=summary.last_submitted.get(sid),
        )
    return result
