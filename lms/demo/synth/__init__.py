"""``synth``: a synthetic school network at scale, for benchmarks and load tests.

It fills an empty, migrated database with students who behave like a school's: cohorts that
started at different times, students who work at different paces and abilities, failed and
retried quizzes, time on task, diplomas and work experience submitted and reviewed, a few
overrides and withdrawals, and, for everyone the readiness engine finds ready, a certificate
(some since revoked, some followed by a real exam result).

Courses, credentials and requirement sets are made through the app's own services, and
readiness is judged by the real engine; the millions of student rows are written in bulk
(``bulk.BulkWriter``), which is what makes a million ledger rows take a minute, not hours.
Synthetic attempts keep their score and times, not the answer to every question, so item
analysis has nothing to show for them; ledger ids follow students, not time.

Every account's password is ``SYNTH_PASSWORD``; students are ``student<n>@synth.example.org``
(n from 1), instructors ``instructor<n>@...`` and the admin ``admin@synth.example.org``.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from lms.auth.models import User
from lms.auth.passwords import hash_password
from lms.credentials import rules
from lms.credentials import service as credentials
from lms.db import utcnow
from lms.demo.synth import bulk, certificates, content
from lms.demo.synth.school import School
from lms.enrollment.progress import readmodel
from lms.errors import InvalidInput
from lms.extensions import db
from lms.ledger import audit

SYNTH_PASSWORD = "synthetic-password"  # noqa: S105 - documented; synthetic accounts only
DOMAIN = "synth.example.org"
MAX_STUDENTS = 1_000_000
MAX_MODULES = 300
CREDENTIALS = ("CPC", "CPB", "CCA")
CERTIFICATE_CHUNK = 2000  # students judged at once when issuing


@dataclass(frozen=True)
class SynthParameters:
    """What to make: how many students, cohorts and modules, from which random seed.

    ``cohort_sizes`` fixes the size of the first cohorts (they aim at the CPC, whose
    requirements have every kind of leaf, and are half-way through their term); the other
    students are shared evenly by the other cohorts."""

    students: int
    cohorts: int = 1
    modules: int = 57
    seed: int = 1
    cohort_sizes: tuple[int, ...] = ()
    now: datetime | None = None


def parameter_problems(p: SynthParameters) -> list[str]:
    """Every reason the parameters cannot make a school; empty when they can."""
    problems = []
    if not 1 <= p.students <= MAX_STUDENTS:
        problems.append(f"--students must be from 1 to {MAX_STUDENTS:,}.")
    if not 1 <= p.cohorts <= max(1, p.students):
        problems.append("--cohorts must be at least 1 and at most the number of students.")
    if not 3 <= p.modules <= MAX_MODULES:
        problems.append(f"--modules must be from 3 to {MAX_MODULES}.")
    if p.cohort_sizes:
        rest_cohorts = p.cohorts - len(p.cohort_sizes)
        rest_students = p.students - sum(p.cohort_sizes)
        if any(size < 1 for size in p.cohort_sizes):
            problems.append("Every --cohort-sizes entry must be at least 1.")
        elif rest_cohorts < 0:
            problems.append("--cohort-sizes names more cohorts than --cohorts.")
        elif rest_students < rest_cohorts or (rest_cohorts == 0 and rest_students != 0):
            problems.append(
                "--cohort-sizes must leave at least one student for each other cohort "
                "(and, when it names every cohort, add up to --students)."
            )
    return problems


@dataclass
class SynthReport:
    """What synth made: rows per table, requirements per credential, logins to try."""

    rows: Counter[str] = field(default_factory=Counter)
    requirements: dict[str, int] = field(default_factory=dict)  # leaves per credential
    cohorts: list[dict[str, Any]] = field(default_factory=list)  # the first few
    certificate_codes: list[str] = field(default_factory=list)  # a few, for verify pages

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": dict(self.rows),
            "requirements": self.requirements,
            "cohorts": self.cohorts,
            "certificate_codes": self.certificate_codes,
            "password": SYNTH_PASSWORD,
        }


def student_email(n: int) -> str:
    """The login of the n-th synthetic student (from 1)."""
    return f"student{n}@{DOMAIN}"


def instructor_email(n: int) -> str:
    """The login of the n-th synthetic instructor (from 1)."""
    return f"instructor{n}@{DOMAIN}"


def synthesise(p: SynthParameters) -> SynthReport:
    """Fill an empty database with a synthetic school; the caller commits. Refuses (and
    writes nothing) when the parameters are bad or the database already has accounts."""
    problems = parameter_problems(p)
    if problems:
        raise InvalidInput(" ".join(problems))
    accounts = db.session.scalar(select(func.count()).select_from(User))
    if accounts:
        raise InvalidInput(
            f"synth fills an empty database, and this one has {accounts:,} accounts. "
            "Point LMS_DATABASE_URL at a new database (and run `flask --app lms db upgrade`)."
        )
    now = (p.now or utcnow()).astimezone(UTC)
    rng = random.Random(p.seed)  # noqa: S311 - synthetic data, not security
    report = SynthReport()
    catalogue = {c.code: c for c in credentials.sync_catalog(credentials.read_catalog())}
    modules = content.make_courses(p.modules)
    trees = content.requirement_trees(modules)
    required = {}
    for code, tree in trees.items():
        credentials.save_requirements(catalogue[code], tree, None, now)
        parsed = rules.parse_requirements(tree)
        report.requirements[code] = len(rules.leaves(parsed))
        required[catalogue[code].id] = [modules[m] for m in rules.module_codes(parsed)]

    writer = bulk.BulkWriter(db.session)
    school = School(writer, rng, now.replace(tzinfo=None), hash_password(SYNTH_PASSWORD))
    cohorts = school.add_staff_and_cohorts(
        _cohort_sizes(p), [catalogue[code].id for code in CREDENTIALS], fixed=len(p.cohort_sizes)
    )
    for cohort in cohorts:
        for _ in range(cohort.size):
            school.add_student(cohort, required[cohort.credential_id])
    writer.flush()
    for code in CREDENTIALS:
        credential = catalogue[code]
        mine = [c for c in cohorts if c.credential_id == credential.id]
        certificates.issue_to_ready(school, credential, mine, now, chunk=CERTIFICATE_CHUNK)
    report.rows = writer.finish()
    # the students were written in bulk, past the services: judge them all once for the
    # cohort pages' read model, as `flask --app lms progress rebuild` does
    report.rows["progress_row"] = len(readmodel.rebuild(now))
    report.cohorts = [c.summary() for c in cohorts[:5]]
    report.certificate_codes = school.certificate_codes[:20]
    audit.record_event(
        "synth.generated",
        actor=None,
        now=now,
        details={
            "students": p.students,
            "cohorts": p.cohorts,
            "modules": p.modules,
            "seed": p.seed,
            "cohort_sizes": list(p.cohort_sizes),
            "rows": dict(report.rows),
        },
    )
    return report


def _cohort_sizes(p: SynthParameters) -> list[int]:
    """The fixed sizes first, then the rest of the students shared as evenly as they go."""
    fixed = list(p.cohort_sizes)
    others = p.cohorts - len(fixed)
    rest = p.students - sum(fixed)
    return fixed + [rest // others + (1 if i < rest % others else 0) for i in range(others)]
