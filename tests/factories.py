"""Builders of test data, through the same services the app uses."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import count

from lms.auth import service as auth
from lms.auth.models import Role, User
from lms.courses import catalogue, content
from lms.courses.attempts import grading, sitting
from lms.courses.models import Course, Module
from lms.courses.rules import code_entry
from lms.credentials import service as credentials
from lms.credentials.models import Credential
from lms.enrollment import service as enrollment
from lms.enrollment.models import Cohort
from lms.extensions import db

PASSWORD = "correct horse battery"
NOW = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)
_sequence = count(1)


def user(
    role: Role = Role.STUDENT,
    email: str | None = None,
    name: str | None = None,
    *,
    author: bool = False,
) -> User:
    """An account with the test password; ``author`` names an instructor a content author."""
    n = next(_sequence)
    created = auth.create_user(
        email=email or f"{role.value}{n}@example.org",
        full_name=name or f"{role.value.capitalize()} Number{n}",
        role=role,
        password=PASSWORD,
        actor=None,
        now=NOW,
    )
    created.content_author = author
    db.session.commit()
    return created


def course(code: str = "TERM", modules: int = 2, questions: int = 3, passing: int = 70) -> Course:
    """A course whose modules have a short lesson and a quiz; choice 0 is always correct."""
    data = {
        "code": code,
        "title": f"Course {code}",
        "topic_area": "terminology",
        "modules": [
            {
                "code": f"{code}-{m}",
                "title": f"Module {m} of {code}",
                "estimated_minutes": 20,
                "passing_score": passing,
                "lesson": f"# Lesson {m}\n\nThe root *cardi/o* means heart.\n",
                "questions": [
                    {
                        "stem": f"{code} module {m} question {q}?",
                        "choices": ["Right", "Wrong one", "Wrong two"],
                        "correct": 0,
                        "rationale": f"Because {q}.",
                    }
                    for q in range(1, questions + 1)
                ],
            }
            for m in range(1, modules + 1)
        ],
    }
    created = content.create_course(data)
    db.session.commit()
    return created


def module(code: str) -> Module:
    """The module with this code, with its quiz loaded."""
    return catalogue.get_module(catalogue.modules_by_code([code])[code].id)


def credential(
    code: str = "CPC", tree: dict | None = None, modules: list[str] = (), *, confirmed: bool = True
) -> Credential:
    """A credential whose requirements are ``tree``, or all of ``modules`` at 70%; its
    awarding body is confirmed in the catalogue unless ``confirmed`` is False (then no
    certificate may be issued for it)."""
    entry = {"code": code, "name": f"Credential {code}", "issuing_body": "AAPC"}
    if confirmed:
        entry |= {"confidence": "high", "source_url": "https://www.aapc.com/certification"}
    else:
        entry |= {"confidence": "unverified"}
    (created,) = credentials.sync_catalog([entry])
    if tree is None:
        tree = {
            "type": "all_of",
            "children": [
                {"type": "module_completed", "module": m, "min_score": 70} for m in modules
            ],
        }
    credentials.save_requirements(created, tree, None, NOW)
    db.session.commit()
    return created


def cohort(
    instructor: User, credential: Credential, students: list[User] = (), name=None
) -> Cohort:
    """A cohort taught by ``instructor`` with ``students`` enrolled (active at once, as if
    each had accepted)."""
    created = enrollment.create_cohort(
        instructor,
        name=name or f"Cohort {next(_sequence)}",
        credential_id=credential.id,
        start_date=date(2026, 9, 1),
        exam_date=date(2027, 1, 15),
        now=NOW,
    )
    for student in students:
        enrollment.enroll_student(instructor, created, student, NOW)
    db.session.commit()
    return created


def answers(module_code: str, right: int | None = None) -> dict[int, frozenset[int]]:
    """Answers to a module's quiz: all right, or only the first ``right`` questions."""
    keys = grading.answer_keys(module(module_code).quiz)
    result = {}
    for index, key in enumerate(keys):
        if key.boxes is not None:  # a code-entry case: the key's codes, or nothing typed
            typed = code_entry.typed_key(key.boxes)
            right_one = right is None or index < right
            result[key.question_id] = typed if right_one else tuple("" for _ in typed)
        elif right is None or index < right:
            result[key.question_id] = key.correct_ids
        else:
            result[key.question_id] = frozenset([max(key.choice_ids - key.correct_ids)])
    return result


def pass_module(student: User, module_code: str, when: datetime = NOW):
    """The student passes the module's quiz with full marks."""
    attempt = sitting.submit_quiz(student, module(module_code).id, answers(module_code), when)
    db.session.commit()
    return attempt


def answer_form(module_code: str, right: int | None = None) -> dict[str, str]:
    """The quiz answers as the form posts them."""
    return {f"q-{q}": str(min(c)) for q, c in answers(module_code, right).items()}


def many_students(cohort: Cohort, count_: int, prefix: str = "bulk") -> list[User]:
    """``count_`` student accounts enrolled in ``cohort``, inserted directly (fast, for tests
    of large cohorts; no passwords, no audit events)."""
    from lms.enrollment.models import Enrollment, EnrollmentStatus
    from lms.enrollment.progress import readmodel

    students = [
        User(
            email=f"{prefix}{next(_sequence)}@example.org",
            full_name=f"Student {prefix} {i:04d}",
            role=Role.STUDENT,
            active=True,
            created_at=NOW,
        )
        for i in range(count_)
    ]
    db.session.add_all(students)
    db.session.flush()
    db.session.add_all(
        Enrollment(
            cohort_id=cohort.id,
            student_id=student.id,
            status=EnrollmentStatus.ACTIVE,
            enrolled_at=NOW,
        )
        for student in students
    )
    db.session.flush()
    # inserted past the services: judge them for the cohort page's read model, as they would
    readmodel.refresh_cohorts([cohort.id], NOW)
    db.session.commit()
    return students
