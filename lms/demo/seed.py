"""Builds the demo school through the same services the app uses, so the demo data obeys
every rule real data does (ledger entries, audit events, automatic certificates)."""

from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta

from lms.auth import service as auth
from lms.auth.models import Role, User
from lms.courses import catalogue, time_on_task
from lms.courses.attempts import grading, loading, sitting
from lms.courses.models import TimeOnTask
from lms.courses.packages import importer as packages
from lms.courses.rules import code_entry
from lms.credentials import outcomes, rules
from lms.credentials import service as credentials
from lms.enrollment import service as enrollment
from lms.extensions import db
from lms.paths import PACKAGE_DIR

DEMO_PASSWORD = "demo-password"  # noqa: S105 - the documented demo password
DEMO_LOGINS = [
    ("admin@example.com", "admin"),
    ("instructor@example.com", "instructor"),
    ("student@example.com", "student"),
    ("certified@example.com", "student"),
]
CONTENT_DIR = PACKAGE_DIR / "demo" / "content"
COURSE_FILES = ["medical-terminology.toml", "coding-regulations.toml", "medical-law-ethics.toml"]
# Added with the course player: two more courses and the timed practice exams.
COURSE_FILES += ["anatomy-physiology.toml", "billing-reimbursement.toml", "practice-exams.toml"]
COURSE_FILES += ["inpatient-coding.toml", "billing-operations.toml", "cpt-procedures.toml"]
# Questions for the practice-exam bank, one file per exam area (each holds only ``[[bank]]``):
# they join the bank of the PRACTICE course, so the exam presets draw on all of them.
PRACTICE_COURSE = "practice-exams.toml"
PRACTICE_BANK_GLOB = "practice-bank-*.toml"


def course_data(filename: str) -> dict:
    """A demo course's content as the content service takes it; the practice-exam course
    gathers the questions of every practice-bank file into its bank."""
    with (CONTENT_DIR / filename).open("rb") as handle:
        data = tomllib.load(handle)
    if filename == PRACTICE_COURSE:
        for extra in sorted(CONTENT_DIR.glob(PRACTICE_BANK_GLOB)):
            with extra.open("rb") as handle:
                data.setdefault("bank", []).extend(tomllib.load(handle).get("bank", []))
    return data


def _modules(*codes: str, min_score: int) -> list[dict]:
    return [{"type": "module_completed", "module": code, "min_score": min_score} for code in codes]


# The demo school's own requirements for each credential (the catalogue holds the exam facts).
# Each minimum score is at least the module's own pass mark (coding modules pass at 80), which
# saving a tree enforces. Sources and the review's findings: docs/content-sources.md.
PRACTICE_EXAM = "CPC-PRACTICE-2"  # full length, preset CPC
CPC_CONTACT_HOURS = 15
REQUIREMENTS = {
    # CPC: every CPC-area module (CPT procedure coding included), anatomy, measured study time,
    # and a timed CPC practice exam at 70% or more within the last 90 days (AAPC's pass mark
    # is 70%: aapc.com/certification/cpc). 15 measured contact hours is the school's figure
    # for its demo curriculum (about 22 hours of estimated study in these modules); AAPC's
    # apprentice rule counts 80 hours of a preparation course (docs/content-sources.md).
    "CPC": {
        "type": "all_of",
        "children": [
            {
                "type": "all_of",
                "label": "Medical terminology",
                "children": _modules("MTERM-1", "MTERM-2", "MTERM-3", min_score=70),
            },
            {
                "type": "all_of",
                "label": "Anatomy and physiology",
                "children": _modules("AP-1", "AP-2", "AP-3", min_score=70),
            },
            {
                "type": "all_of",
                "label": "Code sets",
                "children": _modules("CODING-1", "CODING-2", "CODING-3", min_score=80),
            },
            {
                "type": "all_of",
                "label": "CPT procedure coding",
                "children": _modules(*(f"CPT-PROC-{n}" for n in range(1, 10)), min_score=80),
            },
            {
                "type": "all_of",
                "label": "Compliance",
                "children": _modules("LAW-3", min_score=70),
            },
            {"type": "contact_hours", "hours": CPC_CONTACT_HOURS},
            {
                "type": "assessment_score",
                "module": PRACTICE_EXAM,
                "min_score": 70,
                "within_days": 90,
            },
        ],
    },
    # CPB: the billing courses (plan types, the claim's life, denials, UB-04 and 837, A/R,
    # the No Surprises Act), HCPCS and NCCI (CODING-3), and the law of billing.
    "CPB": {
        "type": "all_of",
        "children": [
            {
                "type": "all_of",
                "label": "Billing and reimbursement",
                "children": _modules("BILL-1", "BILL-2", "BILL-3", min_score=70),
            },
            {
                "type": "all_of",
                "label": "Billing operations",
                "children": _modules(*(f"BILLOPS-{n}" for n in range(1, 7)), min_score=80),
            },
            {
                "type": "all_of",
                "label": "Code sets for billers",
                "children": [
                    *_modules("MTERM-1", min_score=70),
                    *_modules("CODING-1", "CODING-2", "CODING-3", min_score=80),
                ],
            },
            {
                "type": "all_of",
                "label": "Law and compliance",
                "children": _modules("LAW-1", "LAW-2", "LAW-3", min_score=70),
            },
            {
                "type": "assessment_score",
                "module": "CPB-PRACTICE-1",
                "min_score": 70,
                "within_days": 90,
            },
        ],
    },
    # CCA: AHIMA's one eligibility rule (a diploma or equivalent), then the coding modules,
    # the inpatient course with the ICD-10-PCS introduction, and privacy.
    "CCA": {
        "type": "all_of",
        "children": [
            {"type": "evidence", "kind": rules.EvidenceKind.HS_DIPLOMA_OR_GED.value},
            {
                "type": "all_of",
                "label": "Terminology and anatomy",
                "children": _modules(
                    "MTERM-1", "MTERM-2", "MTERM-3", "AP-1", "AP-2", "AP-3", min_score=70
                ),
            },
            {
                "type": "all_of",
                "label": "Code sets",
                "children": _modules("CODING-1", "CODING-2", "CODING-3", min_score=80),
            },
            {
                "type": "all_of",
                "label": "Inpatient and facility coding",
                "children": _modules(*(f"INPT-{n}" for n in range(1, 13)), min_score=80),
            },
            {
                "type": "all_of",
                "label": "Privacy and confidentiality",
                "children": _modules("LAW-1", "LAW-2", min_score=70),
            },
            {
                "type": "assessment_score",
                "module": "CCA-PRACTICE-1",
                "min_score": 70,
                "within_days": 90,
            },
        ],
    },
}


@dataclass(frozen=True)
class SeedResult:
    """Whether anything was created, and the codes of the demo certificates: one valid, one
    revoked (so a verifier can be tried on both)."""

    created: bool
    certificate_code: str | None
    revoked_code: str | None = None


def seed_demo(now: datetime) -> SeedResult:
    """Load the demo data once; when it is already there, change nothing."""
    certified = auth.find_user_by_email("certified@example.com")
    if auth.find_user_by_email("admin@example.com") is not None:
        revoked = auth.find_user_by_email("chris.okafor@example.com")
        return SeedResult(False, _certificate_code(certified), _certificate_code(revoked))

    by_code = {c.code: c for c in credentials.sync_catalog(credentials.read_catalog())}
    for filename in COURSE_FILES:
        # The path a school's course package takes (lms.courses.packages, issue 17).
        packages.import_course(course_data(filename), actor=None, now=now, source=filename)
    for code, tree in REQUIREMENTS.items():
        credentials.save_requirements(by_code[code], tree, None, now)

    def user(email: str, name: str, role: Role, password: str | None = DEMO_PASSWORD) -> User:
        return auth.create_user(
            email=email, full_name=name, role=role, password=password, actor=None, now=now
        )

    admin = user("admin@example.com", "Avery Admin", Role.ADMIN)
    instructor = user("instructor@example.com", "Dana Whitfield", Role.INSTRUCTOR)
    auth.set_author(admin, instructor, True, now)  # the lead instructor writes the courses
    student = user("student@example.com", "Sam Rivera", Role.STUDENT)
    certified = user("certified@example.com", "Priya Natarajan", Role.STUDENT)
    others = [
        user(f"{slug}@example.com", name, Role.STUDENT, password=None)
        for slug, name in [
            ("jordan.lee", "Jordan Lee"),
            ("maria.gonzalez", "Maria Gonzalez"),
            ("tom.becker", "Tom Becker"),
            ("chris.okafor", "Chris Okafor"),
        ]
    ]

    today = now.date()
    cpc = enrollment.create_cohort(
        instructor,
        name="CPC prep, day class",
        credential_id=by_code["CPC"].id,
        start_date=today - timedelta(days=60),
        exam_date=today + timedelta(days=45),
        now=now,
    )
    cca = enrollment.create_cohort(
        instructor,
        name="CCA prep, evening class",
        credential_id=by_code["CCA"].id,
        start_date=today - timedelta(days=20),
        exam_date=today + timedelta(days=100),
        now=now,
    )
    # The demo's school enrols its own students directly (no acceptance to wait for).
    for person in [student, certified, *others]:
        enrollment.enroll_student(instructor, cpc, person, now - timedelta(days=59))
    enrollment.enroll_student(instructor, cca, student, now - timedelta(days=19))

    # Priya has passed every CPC module, so her certificate is issued automatically.
    cpc_modules = [
        code
        for code in rules.module_codes(rules.parse_requirements(REQUIREMENTS["CPC"]))
        if code != PRACTICE_EXAM  # the practice exam is sat below (_practice_history)
    ]
    _studied(certified, cpc_modules, now - timedelta(days=52))
    for day, code in enumerate(cpc_modules):
        _pass_module(certified, code, now - timedelta(days=50 - 2 * day))
    # The others are part of the way there.
    _pass_module(others[0], "MTERM-1", now - timedelta(days=30))
    _pass_module(others[0], "MTERM-2", now - timedelta(days=22))
    _fail_module(others[1], "MTERM-1", now - timedelta(days=12))
    _pass_module(others[1], "MTERM-1", now - timedelta(days=10))
    _seed_evidence_and_results(instructor, student, certified, by_code["CPC"], now)
    _practice_history([certified, *others[:3]], student, now)
    revoked = _revoked_certificate(others[3], instructor, cpc_modules, now)
    return SeedResult(True, _certificate_code(certified), revoked)


def _revoked_certificate(chris: User, instructor: User, modules: list[str], now: datetime) -> str:
    """Chris passed every CPC module and was issued a certificate, which the school then
    revoked: the demo shows a verifier both a valid and a revoked certificate."""
    _studied(chris, modules, now - timedelta(days=42))
    for day, code in enumerate(modules):
        _pass_module(chris, code, now - timedelta(days=40 - 2 * day))
    _sit_practice_exam(chris, 0, now - timedelta(days=6, minutes=90), timedelta(minutes=85))
    (certificate,) = credentials.certificates_of([chris.id])
    enrollment.revoke_certificate(
        instructor,
        certificate,
        "issued_in_error",
        "Issued before the school's attendance check, which found two practice exams sat by "
        "someone else. To be issued again after the retakes.",
        now - timedelta(days=2),
    )
    return certificate.code


def _seed_evidence_and_results(instructor, student, certified, cpc, now: datetime) -> None:
    """Sam has a year of verified experience (toward removing the CPC apprentice designation;
    the diploma for the CCA is left for the walk-through); Priya has passed the real CPC exam."""
    job = credentials.submit_evidence(
        student,
        rules.EvidenceKind.EXPERIENCE,
        "Coding clerk: assigning ICD-10-CM and CPT codes to office visit and procedure charges; "
        "employer's letter on letterhead.",
        now - timedelta(days=30),
        employer="Riverside Family Clinic",
        started_on=(now - timedelta(days=430)).date(),
        ended_on=(now - timedelta(days=31)).date(),
    )
    credentials.decide_evidence(
        instructor, job, verified=True, reason="Employer letter seen.", now=now - timedelta(days=29)
    )
    outcomes.record_exam_outcome(
        instructor,
        certified,
        cpc,
        exam_date=(now - timedelta(days=3)).date(),
        passed=True,
        score=81,
        now=now - timedelta(days=1),
    )


def _answers(
    code: str, right: int | None = None
) -> tuple[int, dict[int, frozenset[int] | tuple[str, ...]]]:
    module = catalogue.modules_by_code([code])[code]
    keys = grading.answer_keys(catalogue.get_module(module.id).quiz)
    answers = {}
    for index, key in enumerate(keys):
        correct = right is None or index < right
        if key.boxes is not None:  # a code-entry case: the key's codes, or nothing typed
            typed = code_entry.typed_key(key.boxes)
            answers[key.question_id] = typed if correct else tuple("" for _ in typed)
            continue
        wrong = sorted(key.choice_ids - key.correct_ids)
        answers[key.question_id] = key.correct_ids if correct or not wrong else frozenset(wrong[:1])
    return module.id, answers


def _studied(student: User, codes: list[str], when: datetime) -> None:
    """The study time the server would have measured while the student read these modules:
    each module's estimated time (demo data; real students' time comes from heartbeats)."""
    for module in catalogue.modules_by_code(codes).values():
        db.session.add(
            TimeOnTask(
                student_id=student.id,
                module_id=module.id,
                course_id=module.course_id,
                seconds=module.estimated_minutes * 60,
                last_beat_at=when,
            )
        )
    db.session.flush()


def _pass_module(student: User, code: str, when: datetime) -> None:
    module_id, answers = _answers(code)
    sitting.submit_quiz(student, module_id, answers, when)


def _fail_module(student: User, code: str, when: datetime) -> None:
    module_id, answers = _answers(code, right=2)
    sitting.submit_quiz(student, module_id, answers, when)


def _practice_history(sitters: list[User], reader: User, now: datetime) -> None:
    """Graded practice exams (so item analysis and the per-area results have data) and an
    hour of measured study time for the demo student."""
    for index, sitter in enumerate(sitters):
        started = now - timedelta(days=8 - index, minutes=90)
        _sit_practice_exam(sitter, index, started, timedelta(minutes=80 + 5 * index))
    module = catalogue.modules_by_code(["MTERM-1"])["MTERM-1"]
    for minute in range(61):
        time_on_task.record_heartbeat(
            reader, module.id, now - timedelta(days=2, minutes=60 - minute)
        )


def _sit_practice_exam(sitter: User, index: int, started: datetime, took: timedelta) -> None:
    """One graded practice exam: the ``index``-th strongest sitter answers 85%, 75%, 65% or
    55% of the questions right."""
    module_id = catalogue.modules_by_code([PRACTICE_EXAM])[PRACTICE_EXAM].id
    attempt = sitting.start_attempt(sitter, module_id, started, random.Random(index))  # noqa: S311
    answers = {}
    for position, item in enumerate(loading.get_attempt_for(sitter, attempt.id).questions):
        choices = item.question.choices
        # stronger students answer more questions right: 85%, 75%, 65%, 55%
        right = (position * 7 + index) % 20 < 17 - 2 * index
        if item.question.code_boxes:  # a code-entry case: the key, or only its first code
            answers[item.question_id] = tuple(
                " ".join(entry[0] for entry in (box["key"] if right else box["key"][:1]))
                for box in item.question.code_boxes
            )
            continue
        picked = [c.id for c in choices if c.is_correct == right] or [choices[0].id]
        answers[item.question_id] = frozenset(picked[:1] if not right else picked)
    sitting.submit_attempt(sitter, attempt.id, answers, started + took)


def _certificate_code(student: User | None) -> str | None:
    if student is None:
        return None
    issued = credentials.certificates_of([student.id])
    return issued[0].code if issued else None
