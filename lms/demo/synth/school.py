"""The students, staff and cohorts of ``synth``, and what the students did, as bulk rows.

All times here are naive UTC datetimes (``BulkWriter.ts`` formats them for the database);
everything a student does happens before ``now``."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

FIRST_NAMES = """
Aaliyah Abdul Adriana Aisha Alejandro Amara Andre Angela Anh Arjun Beatriz Brianna Caleb Carmen
Chen Chloe Darius DeShawn Diego Elena Emeka Esther Fatima Gabriel Grace Hana Hector Ibrahim Imani
Isabel Jamal Jasmine Javier Jin Jordan Kayla Keisha Kenji Lakshmi Latoya Leila Luis Malik Mariana
Mei Miguel Monique Nadia Naomi Nia Omar Priya Rafael Rosa Samuel Sofia Tamika Thanh Tyrone
Valentina Wei Xavier Yara Yusuf Zoe
"""
LAST_NAMES = """
Abara Adeyemi Alvarez Andersen Baptiste Bui Castillo Chowdhury Cohen Delgado Dubois Eze Fernandes
Fitzgerald Garcia Greene Gupta Haddad Hernandez Ibarra Jackson Jensen Kaur Kim Kowalski Lam Lopez
Mahmoud Martinez Mensah Mitchell Morales Nakamura Nguyen Novak Obi Okafor Ortiz Patel Pham Quinn
Ramirez Reyes Robinson Rossi Saleh Santos Schmidt Shah Silva Singh Sullivan Tanaka Thompson Torres
Tran Vargas Washington Williams Wong Yilmaz Zhang
"""
SCHOOLS = ("Lincoln High School", "Riverside GED Program", "Central Adult Education Center")
EMPLOYERS = ("Riverside Family Clinic", "St. Mary's Hospital billing office", "Valley Orthopedics")
REJECTION = "The scan is unreadable; please upload a clearer copy."
OVERRIDE_NOTE = (
    "Transfer credit: passed the equivalent module at a previous school (transcript seen)."
)

# The columns each table's rows give, in order.
COLUMNS = {
    "user_account": "id email full_name role password_hash active session_epoch created_at",
    "cohort": "id name credential_id start_date exam_date created_at join_enabled",
    "cohort_instructor": "cohort_id user_id",
    "enrollment": "id cohort_id student_id status enrolled_at student_number exam_booked_on "
    "exam_fee_employer_paid",
    "enrollment_event": "id enrollment_id cohort_id student_id kind actor_id occurred_at note",
    "evidence": "id student_id kind detail status submitted_at decided_at decided_by_id "
    "decision_reason employer started_on ended_on",
    "attempt": "id quiz_id student_id number status started_at submitted_at score passed "
    "closed_by_deadline",
    "time_on_task": "id student_id module_id course_id seconds last_beat_at",
    "certificate": "id code student_id credential_id requirement_set_id status issued_at "
    "issued_by_id snapshot expires_at",
    "certificate_event": "id certificate_id kind occurred_at actor_id reason",
    "exam_outcome": "id student_id credential_id exam_date passed score recorded_at recorded_by_id",
    "ledger_entry": "id student_id kind module_id credential_id evidence_id score source "
    "source_ref met actor_id recorded_at note",
}


class Writer(Protocol):
    """What the school needs of a bulk writer (``bulk.BulkWriter``)."""

    def declare(self, table: str, columns: tuple[str, ...]) -> None: ...
    def next_id(self, table: str) -> int: ...
    def add(self, table: str, row: tuple) -> None: ...
    def flush(self) -> None: ...
    def ts(self, moment: datetime) -> str: ...
    def day(self, value: date) -> str: ...
    def json(self, value: Any) -> str: ...


@dataclass
class CohortPlan:
    """A synthetic cohort: its dates, its instructors and its active students."""

    id: int
    name: str
    credential_id: int
    start: datetime
    exam: datetime
    size: int
    instructor_ids: list[int]
    instructor_emails: list[str]
    active_ids: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "students": self.size,
            "instructor": self.instructor_emails[0],
        }


class School:
    """Makes the rows of a synthetic school through a bulk writer."""

    def __init__(self, writer: Writer, rng: random.Random, now: datetime, password_hash: str):
        self.w, self.rng, self.now, self.password_hash = writer, rng, now, password_hash
        for table, columns in COLUMNS.items():
            writer.declare(table, tuple(columns.split()))
        self.first_names, self.last_names = FIRST_NAMES.split(), LAST_NAMES.split()
        self.students = 0
        self.last_activity: dict[int, datetime] = {}
        self.instructor_of: dict[int, int] = {}  # student -> the lead instructor of their cohort
        self.certificate_codes: list[str] = []

    # --- people and cohorts --------------------------------------------------------------

    def _user(self, email: str, name: str, role: str, created: datetime) -> int:
        uid = self.w.next_id("user_account")
        self.w.add(
            "user_account", (uid, email, name, role, self.password_hash, 1, 0, self.w.ts(created))
        )
        return uid

    def _name(self) -> str:
        return f"{self.rng.choice(self.first_names)} {self.rng.choice(self.last_names)}"

    def add_staff_and_cohorts(
        self, sizes: list[int], credential_ids: list[int], fixed: int
    ) -> list[CohortPlan]:
        """An admin, an instructor for every three cohorts (a tenth of cohorts have two),
        and the cohorts: the ``fixed`` first ones aim at the first credential and are half-way
        through their term; the others at each credential in turn, started over the past year
        and a bit."""
        rng, w, now = self.rng, self.w, self.now
        opened = now - timedelta(days=800)
        self._user("admin@synth.example.org", "Morgan Administrator", "admin", opened)
        teachers = []
        for n in range(1, max(1, math.ceil(len(sizes) / 3)) + 1):
            email = f"instructor{n}@synth.example.org"
            teachers.append((self._user(email, self._name(), "instructor", opened), email))
        plans = []
        for index, size in enumerate(sizes):
            credential_id = credential_ids[0 if index < fixed else index % len(credential_ids)]
            if index < fixed:
                start, exam = now - timedelta(days=120), now + timedelta(days=60)
            else:
                start = now - timedelta(days=rng.randint(20, 420))
                exam = start + timedelta(days=rng.randint(150, 270))
            start = start.replace(hour=13, minute=0, second=0, microsecond=0)
            chosen = [teachers[index // 3 % len(teachers)]]
            if rng.random() < 0.1 and len(teachers) > 1:
                other = rng.choice(teachers)
                if other not in chosen:
                    chosen.append(other)
            cid = w.next_id("cohort")
            season = ("Winter", "Spring", "Summer", "Fall")[(start.month - 1) // 3]
            name = f"{season} {start.year} cohort {index + 1}"
            created = w.ts(start - timedelta(days=30))
            w.add(
                "cohort",
                (cid, name, credential_id, w.day(start.date()), w.day(exam.date()), created, 0),
            )
            for teacher_id, _ in chosen:
                w.add("cohort_instructor", (cid, teacher_id))
            ids, emails = [t for t, _ in chosen], [e for _, e in chosen]
            plans.append(CohortPlan(cid, name, credential_id, start, exam, size, ids, emails))
        return plans

    # --- one student's programme ---------------------------------------------------------

    def add_student(self, cohort: CohortPlan, modules: list[Any]) -> int:
        """A student of ``cohort``: enrolled near its start, working through ``modules`` in
        order at their own pace and ability, with evidence, until now or withdrawal."""
        rng, w, now = self.rng, self.w, self.now
        self.students += 1
        n = self.students
        enrolled = cohort.start - timedelta(days=rng.randint(0, 14), minutes=rng.randint(0, 600))
        sid = self._user(f"student{n}@synth.example.org", self._name(), "student", enrolled)
        teacher = cohort.instructor_ids[0]
        self.instructor_of[sid] = teacher
        withdrawn_at = None
        if rng.random() < 0.03:
            withdrawn_at = enrolled + timedelta(days=rng.randint(10, 90))
            if withdrawn_at >= now:
                withdrawn_at = None
        stop = withdrawn_at or now
        eid = w.next_id("enrollment")
        booked = None
        if withdrawn_at is None and rng.random() < 0.4:
            booked = w.day((cohort.exam + timedelta(days=rng.randint(0, 14))).date())
        employer_pays = int(booked is not None and rng.random() < 0.3)
        status = "withdrawn" if withdrawn_at else "active"
        w.add(
            "enrollment",
            (eid, cohort.id, sid, status, w.ts(enrolled), f"S{100000 + n}", booked, employer_pays),
        )
        self._event(eid, cohort.id, sid, "enrolled", teacher, enrolled, None)
        if withdrawn_at:
            self._event(eid, cohort.id, sid, "withdrawn", teacher, withdrawn_at, "Left the course.")
        else:
            cohort.active_ids.append(sid)
        last = max(
            self._evidence(sid, teacher, enrolled, stop),
            self._coursework(sid, cohort, modules, enrolled, stop),
        )
        if rng.random() < 0.01 and modules:
            module = rng.choice(modules)
            at = min(stop, enrolled + timedelta(days=rng.randint(5, 40)))
            self.ledger(
                sid,
                "override_granted",
                at,
                source="override",
                source_ref=module.code,  # the leaf key of a module requirement
                met=True,
                module_id=module.id,
                credential_id=cohort.credential_id,
                actor_id=teacher,
                note=OVERRIDE_NOTE,
            )
        self.last_activity[sid] = last
        return sid

    def _event(self, eid, cohort_id, sid, kind, actor, at, note) -> None:
        w = self.w
        row = (w.next_id("enrollment_event"), eid, cohort_id, sid, kind, actor, w.ts(at), note)
        w.add("enrollment_event", row)

    def ledger(
        self,
        sid: int,
        kind: str,
        at: datetime,
        *,
        source: str,
        actor_id: int | None,
        module_id: int | None = None,
        credential_id: int | None = None,
        evidence_id: int | None = None,
        score: float | None = None,
        source_ref: str | None = None,
        note: str | None = None,
        met: bool | None = None,
    ) -> None:
        """One ledger entry, as the service that records such a fact writes it."""
        w = self.w
        w.add(
            "ledger_entry",
            (
                w.next_id("ledger_entry"),
                sid,
                kind,
                module_id,
                credential_id,
                evidence_id,
                score,
                source,
                source_ref,
                None if met is None else int(met),
                actor_id,
                w.ts(at),
                note,
            ),
        )

    def _coursework(
        self, sid: int, cohort: CohortPlan, modules: list[Any], enrolled: datetime, stop: datetime
    ) -> datetime:
        """Quizzes taken (retried when failed), time on task and completions, module after
        module, at a pace that fits the cohort's term; returns the last moment of work."""
        rng, w = self.rng, self.w
        if rng.random() < 0.05:
            return enrolled  # enrolled, never started
        ability = min(0.97, max(0.45, rng.gauss(0.8, 0.09)))
        pace = rng.uniform(0.55, 1.5)
        gap_days = (cohort.exam - cohort.start).days / max(1, len(modules)) / pace
        moment = enrolled + timedelta(days=rng.uniform(0.5, 4))
        last = enrolled
        for module in modules:
            moment += timedelta(days=gap_days * rng.uniform(0.5, 1.5), minutes=rng.randint(0, 300))
            if moment >= stop:
                break
            seconds = int(module.minutes * 60 * rng.uniform(0.6, 1.5))
            w.add(
                "time_on_task",
                (
                    w.next_id("time_on_task"),
                    sid,
                    module.id,
                    module.course_id,
                    seconds,
                    w.ts(moment),
                ),
            )
            passed = False
            for retry in range(4):
                if moment >= stop:
                    break
                right = sum(rng.random() < ability + 0.05 * retry for _ in range(module.questions))
                score = round(100 * right / module.questions, 2)
                passed = score >= module.passing
                started = moment - timedelta(minutes=rng.randint(6, 25))
                aid = w.next_id("attempt")
                w.add(
                    "attempt",
                    (aid, module.quiz_id, sid, retry + 1, "submitted", w.ts(started), w.ts(moment),
                     score, int(passed), 0),
                )  # fmt: skip
                last = moment
                if passed:
                    self.ledger(
                        sid,
                        "module_completed",
                        moment,
                        source="quiz",
                        source_ref=f"attempt:{aid}",
                        module_id=module.id,
                        score=score,
                        actor_id=sid,
                    )
                    break
                moment += timedelta(days=rng.uniform(0.5, 5))
            if not passed:
                break  # stuck after four failures, or out of time
        return last

    def _evidence(self, sid: int, teacher: int, enrolled: datetime, stop: datetime) -> datetime:
        """A diploma from most students, work experience from some, and their review."""
        rng, w = self.rng, self.w
        last = enrolled
        claims: list[tuple[str, str, tuple | None]] = []
        if rng.random() < 0.88:
            school = rng.choice(SCHOOLS)
            detail = f"Diploma, {school}, {rng.randint(1995, 2024)}"
            claims.append(("hs_diploma_or_ged", detail, None))
        if rng.random() < 0.25:
            months = rng.randint(6, 60)
            ended = (enrolled - timedelta(days=rng.randint(0, 300))).date()
            started = ended - timedelta(days=int(months * 30.5))
            detail = "Billing and coding work: charge entry, claims follow-up."
            claims.append(("experience", detail, (rng.choice(EMPLOYERS), started, ended)))
        for kind, detail, job in claims:
            submitted = enrolled + timedelta(days=rng.uniform(1, 20))
            if submitted >= stop:
                continue
            decided, status, reason = None, "submitted", None
            roll = rng.random()
            if roll < 0.93:
                decided = submitted + timedelta(days=rng.uniform(0.2, 5))
                verified = roll < 0.9
                status, reason = (
                    ("verified", "Document seen.") if verified else ("rejected", REJECTION)
                )
                if decided >= self.now:
                    decided, status, reason = None, "submitted", None
            eid = w.next_id("evidence")
            employer, started_on, ended_on = job or (None, None, None)
            w.add(
                "evidence",
                (
                    eid,
                    sid,
                    kind,
                    detail,
                    status,
                    w.ts(submitted),
                    w.ts(decided) if decided else None,
                    teacher if decided else None,
                    reason,
                    employer,
                    w.day(started_on) if started_on else None,
                    w.day(ended_on) if ended_on else None,
                ),
            )
            note = f"{kind}: {detail}"
            if job:
                note += f" ({employer}, {started_on} to {ended_on})"
            self.ledger(
                sid,
                "evidence_submitted",
                submitted,
                source="student",
                actor_id=sid,
                evidence_id=eid,
                note=note,
            )
            last = max(last, submitted)
            if decided:
                self.ledger(
                    sid,
                    f"evidence_{status}",
                    decided,
                    source="review",
                    actor_id=teacher,
                    evidence_id=eid,
                    note=reason,
                )
        return last
