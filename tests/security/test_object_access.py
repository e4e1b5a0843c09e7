"""Every route with an object in its URL, tried by five people: only the right ones get in.

For each object route the table says which of these may use it:

- ``owner``: the student the object belongs to (enrolled in cohort A);
- ``other_student``: another student (enrolled in cohort B);
- ``other_instructor``: the instructor of cohort B;
- ``cohort_instructor``: the instructor of cohort A;
- ``admin``.

Allowed people get 200 (a page) or 302 (a form that worked); everyone else 403 or 404, and
every denial is logged. A route with an argument in its URL that is not in the table fails
the test: a helper adding such a route adds its row here (``CASES``), with a builder that
makes the object for the scenario.
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import select

from lms.auth import one_time, reset, tokens
from lms.auth.models import Role, User
from lms.courses import accommodations, catalogue
from lms.courses.attempts import sitting
from lms.courses.models import Module, Question, Quiz
from lms.credentials import service as credentials
from lms.credentials.models import Certificate
from lms.credentials.rules import EvidenceKind
from lms.db import utcnow
from lms.enrollment import calendar, evidence_views, invitations, overrides, roster
from lms.enrollment import service as enrollment
from lms.enrollment.models import Enrollment
from lms.extensions import db
from lms.lti import platform_api
from lms.lti.models import LtiContext, LtiContextMember, LtiLinkRequest, LtiPlatform
from lms.mail import notices, send_mail
from lms.mail.models import OutgoingMail
from lms.reports import export_runs
from tests import factories
from tests.conftest import count_queries, get_may_write, login, post_form, writes_in
from tests.security.test_api_object_access import TOKEN_CASES

ACTORS = ("owner", "other_student", "other_instructor", "cohort_instructor", "admin")
EVERYONE = frozenset(ACTORS)
ANONYMOUS_OK = "anonymous"


@dataclass
class Scenario:
    """Two cohorts of one credential, their instructors and students, and the owner's things."""

    people: dict[str, User]
    cohort_a: object
    cohort_b: object
    module_id: int
    attempt_id: int
    credential: object = None
    lti_context_id: int = 0


@dataclass(frozen=True)
class Case:
    """One way to call a route: method, a URL (and form) built from the scenario, who may."""

    method: str
    build: Callable[[Scenario], tuple[str, dict]]
    allowed: frozenset[str]


def _new_evidence(s: Scenario):
    evidence = credentials.submit_evidence(
        s.people["owner"], EvidenceKind.HS_DIPLOMA_OR_GED, "Lincoln High, 2019", factories.NOW
    )
    db.session.commit()
    return evidence


def _reset_link(s: Scenario) -> tuple[str, dict]:
    token = reset.request_reset(s.people["owner"].email, utcnow(), lambda t: t)
    db.session.commit()
    return f"/password/reset/{token}", {}


def _failed_mail() -> int:
    """A message given up on after its last attempt (each call its own)."""
    now = utcnow()
    send_mail("lost@example.org", "Lost", f"Never sent {uuid.uuid4()}", now=now)
    row = db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id.desc())).first()
    row.attempts, row.failed_at, row.last_error = 8, now, "SMTPServerDisconnected: gone"
    db.session.commit()
    return row.id


def _unsubscribe_link(s: Scenario) -> tuple[str, dict]:
    token = notices.unsubscribe_token(s.people["owner"].id, "certificate")
    return f"/mail/unsubscribe/{token}", {}


def _certificate_code(s: Scenario) -> str:
    """The owner's certificate (issued when they pass the second module)."""
    code = db.session.scalar(
        select(Certificate.code).where(Certificate.student_id == s.people["owner"].id)
    )
    if code is None:
        factories.pass_module(s.people["owner"], "TERM-2")
        code = db.session.scalar(
            select(Certificate.code).where(Certificate.student_id == s.people["owner"].id)
        )
    assert code is not None
    return code


def _new_student_email() -> str:
    return factories.user(Role.STUDENT).email


# --- builders for the routes added by the merged branches -----------------------------------


def _term1_quiz() -> Quiz:
    return db.session.scalar(
        select(Quiz).join(Module, Module.id == Quiz.module_id).where(Module.code == "TERM-1")
    )


def _bank_id(s: Scenario) -> int:
    return _term1_quiz().bank_id


def _question_id(s: Scenario) -> int:
    """A live question of the course's bank."""
    return db.session.scalar(
        select(Question.id)
        .where(Question.bank_id == _bank_id(s), Question.retired_at.is_(None))
        .order_by(Question.id)
    )


def _course_id(s: Scenario) -> int:
    return db.session.scalar(select(Module.course_id).where(Module.id == s.module_id))


def _draft_module(s: Scenario, versions: int = 0) -> int:
    """A new module at the end of the scenario's course, its lesson saved as a draft; with
    ``versions``, published that many times (a new lesson each time). Each call its own."""
    from lms.courses.authoring import service as authoring  # noqa: PLC0415
    from lms.courses.rules.authoring import ModuleFields  # noqa: PLC0415

    code = f"DRAFT-{uuid.uuid4().hex[:8].upper()}"
    module = authoring.add_module(
        None, _course_id(s), ModuleFields(code, "A draft", 20), utcnow(), lesson_markdown="# A\n"
    )
    for number in range(1, versions + 1):
        draft = authoring.draft_of(module)
        authoring.save_draft(
            None,
            module.id,
            title="A draft",
            estimated_minutes=20,
            lesson_markdown=f"# A\n\nVersion {number}.\n",
            revision=draft.revision,
            now=utcnow(),
        )
        authoring.publish(None, module.id, f"Version {number}", utcnow())
    db.session.commit()
    return module.id


def _code_entry_question_id(s: Scenario) -> int:
    """A code-entry question of the course's bank, and an ICD-10-CM release that deleted its
    key code (so the key is on the review list)."""
    from lms.courses import content  # noqa: PLC0415
    from lms.courses.bank import code_releases  # noqa: PLC0415
    from lms.courses.models import QuestionBank  # noqa: PLC0415

    question = content.add_question(
        db.session.get(QuestionBank, _bank_id(s)),
        {
            "kind": "code_entry",
            "stem": "Code it.",
            "case": "Type 2 diabetes, no complications.",
            "boxes": [{"label": "Dx", "code_set": "icd10cm", "key": [["E11.9"]]}],
        },
    )
    label = f"next-{question.id}"
    code_releases.load_release(None, "icd10cm", label, {"I10": (True, "")}, factories.NOW)
    db.session.commit()
    return question.id


def _media_file(s: Scenario) -> str:
    """A PNG of the course's lessons; its file name."""
    from lms.courses.media import service as media  # noqa: PLC0415
    from lms.courses.models import Course  # noqa: PLC0415

    course = db.session.get(Course, _course_id(s))
    name = f"figure-{len(media.list_media(course)) + 1}.png"
    media.store_media(course, name, b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, None, factories.NOW)
    db.session.commit()
    return name


def _open_attempt(s: Scenario) -> int:
    """The owner's attempt in progress at the second module's quiz (started or resumed)."""
    module = catalogue.modules_by_code(["TERM-2"])["TERM-2"]
    attempt = sitting.start_attempt(s.people["owner"], module.id, utcnow())
    attempt_id = attempt.id
    db.session.commit()
    return attempt_id


def _cohort_a(s: Scenario):
    """Cohort A loaded with what the services read (its credential and instructors)."""
    return enrollment.get_cohort_for(s.people["admin"], s.cohort_a.id)


def _student_in_a(s: Scenario) -> User:
    """A new student enrolled in cohort A (for actions that use a student up)."""
    student = factories.user(Role.STUDENT)
    enrollment.enroll_student(s.people["cohort_instructor"], _cohort_a(s), student, factories.NOW)
    db.session.commit()
    return student


def _fresh_certificate_id(s: Scenario) -> int:
    """A new student of cohort A who passes both modules and so holds an issued certificate."""
    student = _student_in_a(s)
    factories.pass_module(student, "TERM-1")
    factories.pass_module(student, "TERM-2")
    certificate_id = db.session.scalar(
        select(Certificate.id).where(Certificate.student_id == student.id)
    )
    assert certificate_id is not None
    return certificate_id


def _evidence_with_file(s: Scenario) -> int:
    evidence = credentials.submit_evidence(
        s.people["owner"],
        EvidenceKind.HS_DIPLOMA_OR_GED,
        "Lincoln High, 2019",
        factories.NOW,
        upload=credentials.Upload(content=b"%PDF-1.4\n%%EOF\n", filename="diploma.pdf"),
        storage=evidence_views.evidence_storage(),
    )
    db.session.commit()
    return evidence.id


def _invitation_token(s: Scenario) -> str:
    _, token = invitations.invite_student(
        s.people["cohort_instructor"],
        f"invitee{factories.user(Role.STUDENT).id}@example.org",
        "Ida Invitee",
        utcnow(),
        send=False,
    )
    db.session.commit()
    return token


def _invited_student_in_a(s: Scenario) -> int:
    """A student of cohort A who was invited and has not set a password yet."""
    email = f"invited{factories.user(Role.STUDENT).id}@example.org"
    with current_app.test_request_context():  # the invitation mail carries a link
        enrolled = enrollment.enroll_by_email(
            s.people["cohort_instructor"], _cohort_a(s), email, utcnow(), full_name="Ivo Invited"
        )
    student_id = enrolled.student_id
    db.session.commit()
    return student_id


def _owner_asked_into_b(s: Scenario) -> int:
    """The owner's place in cohort B, offered by its instructor and not answered yet (the
    id of the enrolment); offered once, then found again."""
    owner = s.people["owner"]
    place = db.session.scalar(
        select(Enrollment).where(
            Enrollment.cohort_id == s.cohort_b.id, Enrollment.student_id == owner.id
        )
    )
    if place is None:
        cohort_b = enrollment.get_cohort_for(s.people["admin"], s.cohort_b.id)
        with current_app.test_request_context():  # the request to accept is mailed
            place = enrollment.enroll_by_email(
                s.people["other_instructor"], cohort_b, owner.email, utcnow()
            )
    place_id = place.id
    db.session.commit()
    return place_id


def _join_code(s: Scenario) -> str:
    enrollment.set_join(
        s.people["cohort_instructor"], _cohort_a(s), enabled=True, new_code=False, now=factories.NOW
    )
    db.session.commit()
    code = _cohort_a(s).join_code
    assert code
    return code


def _co_instructor_of_a(s: Scenario) -> int:
    person = factories.user(Role.INSTRUCTOR)
    enrollment.add_instructor(
        s.people["cohort_instructor"], _cohort_a(s), person.email, factories.NOW
    )
    db.session.commit()
    return person.id


def _move_target(s: Scenario) -> tuple[str, dict]:
    """A new student of cohort A, moved to a third cohort the cohort's instructor teaches."""
    student = _student_in_a(s)
    target = factories.cohort(s.people["cohort_instructor"], s.credential)
    return (
        f"/cohorts/{s.cohort_a.id}/students/{student.id}/move",
        {"target": str(target.id)},
    )


def _override_key(s: Scenario) -> str:
    return sorted(overrides._leaf_keys(_cohort_a(s)))[0]


def _roster_token(s: Scenario) -> str:
    cohort = _cohort_a(s)
    email = f"roster{factories.user(Role.STUDENT).id}@example.org"
    preview = roster.preview(
        cohort,
        f"email,first name,last name\n{email},Rosa,Roster\n".encode(),
        max_bytes=10_000,
        max_rows=10,
    )
    assert preview.ok, preview
    return roster.sign_rows(cohort, preview.rows, current_app.config["SECRET_KEY"])


def _link_request(s: Scenario) -> str:
    """A pending request to link a platform user to the owner's account (its token)."""
    token = "link-" + secrets.token_urlsafe(16)
    now = utcnow()
    db.session.add(
        LtiLinkRequest(
            token_hash=one_time.hash_secret(token),
            browser_hash=one_time.hash_secret("the launching browser"),
            platform_id=_platform_id(s),
            subject="someone",
            user_id=s.people["owner"].id,
            claims=json.dumps({"sub": "someone", "name": "Some One"}),
            created_at=now,
            expires_at=now + timedelta(minutes=30),
        )
    )
    db.session.commit()
    return token


def _platform_id(s: Scenario) -> int:
    return db.session.scalar(
        select(LtiContext.platform_id).where(LtiContext.id == s.lti_context_id)
    )


def _export_run_id(s: Scenario) -> int:
    started = export_runs.start_export(
        s.people["admin"],
        "completions",
        "csv",
        {},
        channel="web",
        now=utcnow(),
        base_url="http://localhost",
    )
    db.session.commit()
    return started.run_id


def _calendar_token(s: Scenario) -> str:
    """The owner's calendar feed token (made, or reset, now)."""
    owner = s.people["owner"]
    token = calendar.issue_calendar_link(
        owner, confirmed=calendar.feed_of(owner) is not None, now=utcnow()
    )
    db.session.commit()
    return token


def _token_of(person: User) -> int:
    token, _ = tokens.create_token(
        person, name="SIS", scope=tokens.TokenScope.READ, days=30, now=utcnow()
    )
    db.session.commit()
    return token.id


STAFF_ONLY = frozenset({"other_instructor", "cohort_instructor", "admin"})
# Content authors: an admin, and the instructor an admin named an author (the cohort's here).
AUTHORS = frozenset({"cohort_instructor", "admin"})
COHORT_STAFF = frozenset({"cohort_instructor", "admin"})
STUDENTS = frozenset({"owner", "other_student"})


def _student_with_extra_time(s: Scenario) -> User:
    """A new student of cohort A granted extra time by the cohort's instructor."""
    student = _student_in_a(s)
    accommodations.grant_extra_time(
        s.people["cohort_instructor"], student, multiplier="1.5", reason="IEP", now=factories.NOW
    )
    db.session.commit()
    return student


CASES: dict[str, list[Case]] = {
    "courses.module_page": [Case("GET", lambda s: (f"/modules/{s.module_id}", {}), EVERYONE)],
    # The ICD-10-CM tabular list is public knowledge: every signed-in person reads it.
    "codes.code_page": [Case("GET", lambda s: ("/codes/E11.9", {}), EVERYONE)],
    "courses.submit_quiz": [
        Case(
            "POST",
            lambda s: (f"/modules/{s.module_id}/quiz", factories.answer_form("TERM-1")),
            frozenset({"owner", "other_student"}),
        )
    ],
    "courses.attempt_page": [
        Case("GET", lambda s: (f"/attempts/{s.attempt_id}", {}), frozenset({"owner", "admin"})),
        Case("GET", lambda s: (f"/attempts/{_open_attempt(s)}", {}), frozenset({"owner", "admin"})),
    ],
    "courses.start_attempt": [
        Case("POST", lambda s: (f"/modules/{s.module_id}/attempts", {}), STUDENTS)
    ],
    "courses.save_answers": [
        Case(
            "POST",
            lambda s: (f"/attempts/{_open_attempt(s)}/answers", factories.answer_form("TERM-2")),
            frozenset({"owner"}),
        )
    ],
    "courses.submit_attempt": [
        Case(
            "POST",
            lambda s: (f"/attempts/{_open_attempt(s)}/submit", factories.answer_form("TERM-2")),
            frozenset({"owner"}),
        )
    ],
    "courses.heartbeat": [
        Case("POST", lambda s: (f"/modules/{s.module_id}/heartbeat", {}), STUDENTS)
    ],
    # Courses and question banks are the school's shared content: every instructor reads
    # them; only content authors change them (issue 20 item 4).
    "courses.set_sequential": [
        Case("POST", lambda s: (f"/courses/{_course_id(s)}/sequential", {}), AUTHORS)
    ],
    "codes.mark_key_reviewed": [
        Case(
            "POST",
            lambda s: (f"/codes/review/{_code_entry_question_id(s)}", {"code_set": "icd10cm"}),
            AUTHORS,
        )
    ],
    # A whole course leaves the school only by an author's export (issue 17).
    "course_packages.export_course": [
        Case("GET", lambda s: ("/courses/export/TERM.zip", {}), AUTHORS)
    ],
    # The editor (issue 16): every instructor reads a course's modules, drafts and versions;
    # only content authors write them.
    "authoring.edit_course": [
        Case("GET", lambda s: (f"/courses/{_course_id(s)}/edit", {}), STAFF_ONLY)
    ],
    "authoring.archive_course": [
        Case("POST", lambda s: (f"/courses/{_course_id(s)}/archive", {"archived": "0"}), AUTHORS)
    ],
    "authoring.new_module": [
        Case("GET", lambda s: (f"/courses/{_course_id(s)}/modules/new", {}), STAFF_ONLY)
    ],
    "authoring.edit_module": [
        Case("GET", lambda s: (f"/modules/{s.module_id}/edit", {}), STAFF_ONLY)
    ],
    "authoring.publish_module": [
        Case(
            "POST",
            lambda s: (f"/modules/{_draft_module(s)}/publish", {"note": "First version"}),
            AUTHORS,
        )
    ],
    "authoring.move_module": [
        Case("POST", lambda s: (f"/modules/{_draft_module(s)}/move", {"step": "up"}), AUTHORS)
    ],
    "authoring.archive_module": [
        Case("POST", lambda s: (f"/modules/{_draft_module(s)}/archive", {"archived": "1"}), AUTHORS)
    ],
    "authoring.delete_module": [
        Case("POST", lambda s: (f"/modules/{_draft_module(s)}/delete", {}), AUTHORS)
    ],
    "authoring.module_versions": [
        Case("GET", lambda s: (f"/modules/{s.module_id}/versions", {}), STAFF_ONLY)
    ],
    "authoring.restore_version": [
        Case(
            "POST",
            lambda s: (f"/modules/{_draft_module(s, versions=2)}/versions/1/restore", {}),
            AUTHORS,
        )
    ],
    "authoring.build_quiz": [
        Case("GET", lambda s: (f"/modules/{s.module_id}/quiz/build", {}), STAFF_ONLY),
        Case(
            "POST",
            lambda s: (
                f"/modules/{_draft_module(s)}/quiz/build",
                {"action": "create", "title": "Quiz", "bank_id": _bank_id(s), "passing_score": 80},
            ),
            AUTHORS,
        ),
    ],
    "authoring.preview_quiz": [
        Case("GET", lambda s: (f"/modules/{s.module_id}/quiz/preview", {}), STAFF_ONLY)
    ],
    "media.course_media_list": [
        Case("GET", lambda s: (f"/courses/{_course_id(s)}/media", {}), STAFF_ONLY)
    ],
    "media.course_media_file": [
        Case("GET", lambda s: (f"/courses/{_course_id(s)}/media/{_media_file(s)}", {}), EVERYONE)
    ],
    "bank.bank_page": [Case("GET", lambda s: (f"/banks/{_bank_id(s)}", {}), STAFF_ONLY)],
    "bank.new_question": [
        Case("GET", lambda s: (f"/banks/{_bank_id(s)}/questions/new", {}), AUTHORS)
    ],
    "bank.edit_question": [
        Case("GET", lambda s: (f"/questions/{_question_id(s)}/edit", {}), AUTHORS)
    ],
    "bank.retire_question": [
        Case("POST", lambda s: (f"/questions/{_question_id(s)}/retire", {}), AUTHORS)
    ],
    "bank.export_bank": [
        Case("GET", lambda s: (f"/banks/{_bank_id(s)}/export/gift", {}), STAFF_ONLY)
    ],
    "bank.new_exam": [Case("GET", lambda s: (f"/courses/{_course_id(s)}/exams/new", {}), AUTHORS)],
    "bank.quiz_settings": [
        Case("GET", lambda s: (f"/quizzes/{_term1_quiz().id}/settings", {}), AUTHORS)
    ],
    "bank.item_analysis": [
        Case("GET", lambda s: (f"/quizzes/{_term1_quiz().id}/analysis", {}), STAFF_ONLY)
    ],
    "enrollment.cohort_page": [
        Case(
            "GET",
            lambda s: (f"/cohorts/{s.cohort_a.id}", {}),
            frozenset({"cohort_instructor", "admin"}),
        )
    ],
    "enrollment.enroll": [
        Case(
            "POST",
            lambda s: (f"/cohorts/{s.cohort_a.id}/enrollments", {"email": _new_student_email()}),
            frozenset({"cohort_instructor", "admin"}),
        )
    ],
    "enrollment.decide_evidence": [
        Case(
            "POST",
            lambda s: (
                f"/cohorts/{s.cohort_a.id}/evidence/{_new_evidence(s).id}",
                {"verify": "Verify"},
            ),
            frozenset({"cohort_instructor", "admin"}),
        ),
        # The other instructor names their own cohort but the owner's evidence.
        Case(
            "POST",
            lambda s: (
                f"/cohorts/{s.cohort_b.id}/evidence/{_new_evidence(s).id}",
                {"verify": "Verify"},
            ),
            frozenset({"admin"}),
        ),
    ],
    "credentials.verify": [
        Case("GET", lambda s: (f"/verify/{_certificate_code(s)}", {}), EVERYONE),
        Case("GET", lambda s: ("/verify/NOPE", {}), frozenset()),
    ],
    "credentials.verify_json": [
        Case("GET", lambda s: (f"/verify/{_certificate_code(s)}.json", {}), EVERYONE),
        Case("GET", lambda s: ("/verify/NOPE.json", {}), frozenset()),
    ],
    "credentials.certificate_pdf": [
        Case("GET", lambda s: (f"/verify/{_certificate_code(s)}/certificate.pdf", {}), EVERYONE),
        Case("GET", lambda s: ("/verify/NOPE/certificate.pdf", {}), frozenset()),
    ],
    "credentials.credential_jwt": [
        Case("GET", lambda s: (f"/verify/{_certificate_code(s)}/credential.jwt", {}), EVERYONE),
        Case("GET", lambda s: ("/verify/NOPE/credential.jwt", {}), frozenset()),
    ],
    "evidence.evidence_file": [
        Case(
            "GET",
            lambda s: (f"/evidence/{_evidence_with_file(s)}/file", {}),
            frozenset({"owner", "cohort_instructor", "admin"}),
        )
    ],
    "cohort_certificates.page": [
        Case("GET", lambda s: (f"/cohorts/{s.cohort_a.id}/certificates", {}), COHORT_STAFF)
    ],
    "cohort_certificates.issue": [
        Case("POST", lambda s: (f"/cohorts/{s.cohort_a.id}/certificates/issue", {}), COHORT_STAFF)
    ],
    "cohort_certificates.auto_issue": [
        Case(
            "POST",
            lambda s: (f"/cohorts/{s.cohort_a.id}/certificates/auto-issue", {"enabled": "1"}),
            COHORT_STAFF,
        )
    ],
    "cohort_certificates.revoke": [
        Case(
            "GET",
            lambda s: (
                f"/cohorts/{s.cohort_a.id}/certificates/{_fresh_certificate_id(s)}/revoke",
                {},
            ),
            COHORT_STAFF,
        ),
        Case(
            "POST",
            lambda s: (
                f"/cohorts/{s.cohort_a.id}/certificates/{_fresh_certificate_id(s)}/revoke",
                {"public_reason": "issued_in_error", "note": "A test of who may revoke."},
            ),
            COHORT_STAFF,
        ),
        # The other instructor names their own cohort but a certificate of cohort A.
        Case(
            "POST",
            lambda s: (
                f"/cohorts/{s.cohort_b.id}/certificates/{_fresh_certificate_id(s)}/revoke",
                {"reason": "Issued in error"},
            ),
            frozenset(),
        ),
    ],
    "cohort_certificates.record_result": [
        Case(
            "POST",
            lambda s: (
                f"/cohorts/{s.cohort_a.id}/exam-results",
                {
                    "subject_id": str(s.people["owner"].id),
                    "exam_date": "2026-10-15",
                    "result": "passed",
                    "score": "",
                },
            ),
            COHORT_STAFF,
        ),
    ],
    "credentials.credential_page": [
        Case("GET", lambda s: (f"/admin/credentials/{s.credential.id}", {}), frozenset({"admin"}))
    ],
    "enrollment.edit_cohort": [
        Case("GET", lambda s: (f"/cohorts/{s.cohort_a.id}/edit", {}), COHORT_STAFF)
    ],
    "enrollment.archive_cohort": [
        Case(
            "POST",
            lambda s: (
                f"/cohorts/{factories.cohort(s.people['cohort_instructor'], s.credential).id}"
                "/archive",
                {"action": "archive"},
            ),
            COHORT_STAFF,
        )
    ],
    "enrollment.add_instructor": [
        Case(
            "POST",
            lambda s: (
                f"/cohorts/{s.cohort_a.id}/instructors",
                {"email": factories.user(Role.INSTRUCTOR).email},
            ),
            COHORT_STAFF,
        )
    ],
    "enrollment.remove_instructor": [
        Case(
            "POST",
            lambda s: (f"/cohorts/{s.cohort_a.id}/instructors/{_co_instructor_of_a(s)}/remove", {}),
            COHORT_STAFF,
        ),
        # Cohort B's instructor names their own cohort but someone of cohort A.
        Case(
            "POST",
            lambda s: (f"/cohorts/{s.cohort_b.id}/instructors/{_co_instructor_of_a(s)}/remove", {}),
            frozenset(),
        ),
    ],
    "enrollment.join_settings": [
        Case("POST", lambda s: (f"/cohorts/{s.cohort_a.id}/join", {"action": "on"}), COHORT_STAFF)
    ],
    # A join code is shared with the class: any student who has it may see and use it.
    "enrollment.join_code": [
        Case("GET", lambda s: (f"/join/{_join_code(s)}", {}), STUDENTS),
        Case("GET", lambda s: ("/join/NOPE-NOPE", {}), frozenset()),
    ],
    # The feed's secret token is the credential: whoever holds it reads the feed, anyone
    # else (a made-up token) gets 404.
    "enrollment.calendar_feed": [
        Case("GET", lambda s: (f"/calendar/{_calendar_token(s)}.ics", {}), EVERYONE),
        Case("GET", lambda s: ("/calendar/not-a-token.ics", {}), frozenset()),
    ],
    "enrollment.accept_invitation": [
        Case("GET", lambda s: (f"/invite/{_invitation_token(s)}", {}), EVERYONE),
        Case("GET", lambda s: ("/invite/not-a-token", {}), frozenset()),
    ],
    # Only the student answers a place offered to them.
    "enrollment.answer_place": [
        Case(
            "POST",
            lambda s: (f"/dashboard/places/{_owner_asked_into_b(s)}", {"answer": "decline"}),
            frozenset({"owner"}),
        )
    ],
    "enrollment.book_exam": [
        Case(
            "POST",
            lambda s: (f"/dashboard/exam/{s.cohort_a.id}", {"booked_on": "2027-01-10"}),
            frozenset({"owner"}),
        )
    ],
    "enrollment.progress_chart": [
        Case("GET", lambda s: (f"/cohorts/{s.cohort_a.id}/progress.svg", {}), COHORT_STAFF)
    ],
    "enrollment.roster_upload": [
        Case("GET", lambda s: (f"/cohorts/{s.cohort_a.id}/roster", {}), COHORT_STAFF)
    ],
    "enrollment.roster_confirm": [
        Case(
            "POST",
            lambda s: (f"/cohorts/{s.cohort_a.id}/roster/confirm", {"token": _roster_token(s)}),
            COHORT_STAFF,
        )
    ],
    "enrollment.student_page": [
        Case(
            "GET",
            lambda s: (f"/cohorts/{s.cohort_a.id}/students/{s.people['owner'].id}", {}),
            COHORT_STAFF,
        ),
        # Cohort B's instructor names their own cohort but cohort A's student.
        Case(
            "GET",
            lambda s: (f"/cohorts/{s.cohort_b.id}/students/{s.people['owner'].id}", {}),
            frozenset(),
        ),
        # Cohort B's instructor asked the owner to join B: nothing until the owner accepts.
        Case(
            "GET",
            lambda s: (
                _owner_asked_into_b(s)
                and f"/cohorts/{s.cohort_b.id}/students/{s.people['owner'].id}",
                {},
            ),
            frozenset({"admin"}),
        ),
    ],
    "enrollment.override": [
        Case(
            "POST",
            lambda s: (
                f"/cohorts/{s.cohort_a.id}/students/{_student_in_a(s).id}/overrides",
                {"key": _override_key(s), "decision": "met", "reason": "Completed elsewhere"},
            ),
            COHORT_STAFF,
        ),
        # Cohort B's instructor names their own cohort but someone of cohort A.
        Case(
            "POST",
            lambda s: (
                f"/cohorts/{s.cohort_b.id}/students/{_student_in_a(s).id}/overrides",
                {"key": _override_key(s), "decision": "met", "reason": "Completed elsewhere"},
            ),
            frozenset(),
        ),
    ],
    "enrollment.resend_invitation": [
        Case(
            "POST",
            lambda s: (
                f"/cohorts/{s.cohort_a.id}/students/{_invited_student_in_a(s)}/invitation",
                {},
            ),
            COHORT_STAFF,
        ),
        # Cohort B's instructor names their own cohort but someone of cohort A.
        Case(
            "POST",
            lambda s: (
                f"/cohorts/{s.cohort_b.id}/students/{_invited_student_in_a(s)}/invitation",
                {},
            ),
            frozenset(),
        ),
    ],
    "enrollment.withdraw": [
        Case(
            "POST",
            lambda s: (
                f"/cohorts/{s.cohort_a.id}/students/{_student_in_a(s).id}/withdraw",
                {"reason": ""},
            ),
            COHORT_STAFF,
        ),
        # Cohort B's instructor names their own cohort but someone of cohort A.
        Case(
            "POST",
            lambda s: (
                f"/cohorts/{s.cohort_b.id}/students/{_student_in_a(s).id}/withdraw",
                {"reason": ""},
            ),
            frozenset(),
        ),
    ],
    "enrollment.move": [
        Case("POST", _move_target, COHORT_STAFF),
        # Cohort B's instructor names their own cohort but someone of cohort A.
        Case(
            "POST",
            lambda s: (
                f"/cohorts/{s.cohort_b.id}/students/{_student_in_a(s).id}/move",
                {"target": str(s.cohort_b.id)},
            ),
            frozenset(),
        ),
    ],
    "enrollment.cohort_announcements": [
        Case("GET", lambda s: (f"/cohorts/{s.cohort_a.id}/announcements", {}), COHORT_STAFF),
        Case(
            "POST",
            lambda s: (f"/cohorts/{s.cohort_a.id}/announcements", {"title": "T", "body": "B"}),
            COHORT_STAFF,
        ),
    ],
    "enrollment.gradebook_page": [
        Case("GET", lambda s: (f"/cohorts/{s.cohort_a.id}/gradebook", {}), COHORT_STAFF)
    ],
    "enrollment.gradebook_attempts": [
        Case(
            "GET",
            lambda s: (
                f"/cohorts/{s.cohort_a.id}/gradebook/students/{s.people['owner'].id}"
                f"/quizzes/{_term1_quiz().id}",
                {},
            ),
            COHORT_STAFF,
        ),
        # Cohort B's instructor names their own cohort but cohort A's student.
        Case(
            "GET",
            lambda s: (
                f"/cohorts/{s.cohort_b.id}/gradebook/students/{s.people['owner'].id}"
                f"/quizzes/{_term1_quiz().id}",
                {},
            ),
            frozenset(),
        ),
    ],
    "enrollment.gradebook_attempt": [
        Case(
            "GET",
            lambda s: (f"/cohorts/{s.cohort_a.id}/gradebook/attempts/{s.attempt_id}", {}),
            COHORT_STAFF,
        ),
        # Cohort B's instructor names their own cohort but an attempt of cohort A's student.
        Case(
            "GET",
            lambda s: (f"/cohorts/{s.cohort_b.id}/gradebook/attempts/{s.attempt_id}", {}),
            frozenset(),
        ),
    ],
    "gradebook_export.gradebook_csv": [
        Case("GET", lambda s: (f"/cohorts/{s.cohort_a.id}/gradebook.csv", {}), COHORT_STAFF)
    ],
    "enrollment.grant_extra_time": [
        Case(
            "POST",
            lambda s: (
                f"/cohorts/{s.cohort_a.id}/students/{_student_in_a(s).id}/extra-time",
                {"multiplier": "1.5", "grant_reason": "Documented disability"},
            ),
            COHORT_STAFF,
        ),
        # Cohort B's instructor names their own cohort but someone of cohort A.
        Case(
            "POST",
            lambda s: (
                f"/cohorts/{s.cohort_b.id}/students/{_student_in_a(s).id}/extra-time",
                {"multiplier": "1.5", "grant_reason": "Documented disability"},
            ),
            frozenset(),
        ),
    ],
    "enrollment.end_extra_time": [
        Case(
            "POST",
            lambda s: (
                f"/cohorts/{s.cohort_a.id}/students/{_student_with_extra_time(s).id}"
                "/extra-time/end",
                {"end_reason": "The term is over."},
            ),
            COHORT_STAFF,
        ),
        # Cohort B's instructor names their own cohort but someone of cohort A.
        Case(
            "POST",
            lambda s: (
                f"/cohorts/{s.cohort_b.id}/students/{_student_with_extra_time(s).id}"
                "/extra-time/end",
                {"end_reason": "The term is over."},
            ),
            frozenset(),
        ),
    ],
    "enrollment.study_plan": [
        Case("GET", lambda s: (f"/cohorts/{s.cohort_a.id}/plan", {}), COHORT_STAFF)
    ],
    "lti.context_page": [
        Case("GET", lambda s: (f"/lti/courses/{s.lti_context_id}", {}), COHORT_STAFF)
    ],
    "lti.link_cohort": [
        Case(
            "POST",
            lambda s: (f"/lti/courses/{s.lti_context_id}/cohort", {"cohort_id": s.cohort_a.id}),
            COHORT_STAFF,
        )
    ],
    "lti.sync_roster": [
        Case("POST", lambda s: (f"/lti/courses/{s.lti_context_id}/sync", {}), COHORT_STAFF)
    ],
    "lti.platform_edit": [
        Case("GET", lambda s: (f"/admin/lti/platforms/{_platform_id(s)}", {}), frozenset({"admin"}))
    ],
    "reports.export_manifest": [
        Case(
            "GET",
            lambda s: (f"/admin/exports/{_export_run_id(s)}/manifest.json", {}),
            frozenset({"admin"}),
        )
    ],
    "tokens.revoke": [
        Case(
            "POST",
            lambda s: (f"/admin/tokens/{_token_of(s.people['admin'])}/revoke", {}),
            frozenset({"admin"}),
        ),
        # Another admin's token: nobody but its owner revokes it here.
        Case(
            "POST",
            lambda s: (f"/admin/tokens/{_token_of(factories.user(Role.ADMIN))}/revoke", {}),
            frozenset(),
        ),
    ],
    "transcripts.transcript_page": [
        Case(
            "GET",
            lambda s: (f"/transcripts/{s.people['owner'].id}", {}),
            frozenset({"owner", "cohort_instructor", "admin"}),
        )
    ],
    "transcripts.transcript_pdf": [
        Case(
            "GET",
            lambda s: (f"/transcripts/{s.people['owner'].id}.pdf", {}),
            frozenset({"owner", "cohort_instructor", "admin"}),
        )
    ],
    "users.change_role": [
        Case(
            "POST",
            lambda s: (f"/admin/users/{s.people['owner'].id}/role", {"role": "student"}),
            frozenset({"admin"}),
        )
    ],
    "users.set_active": [
        Case(
            "POST",
            lambda s: (f"/admin/users/{factories.user(Role.STUDENT).id}/active", {"active": "0"}),
            frozenset({"admin"}),
        )
    ],
    "users.set_author": [
        Case(
            "POST",
            lambda s: (
                f"/admin/users/{factories.user(Role.INSTRUCTOR).id}/author",
                {"author": "1"},
            ),
            frozenset({"admin"}),
        )
    ],
    "users.edit_user": [
        Case(
            "GET", lambda s: (f"/admin/users/{s.people['owner'].id}/edit", {}), frozenset({"admin"})
        ),
        Case(
            "POST",
            lambda s: (
                f"/admin/users/{s.people['owner'].id}/edit",
                {
                    "full_name": "Renamed Owner",
                    "email": s.people["owner"].email,
                    "role": "student",
                },
            ),
            frozenset({"admin"}),
        ),
    ],
    "users.send_reset": [
        Case(
            "POST",
            lambda s: (f"/admin/users/{s.people['owner'].id}/reset", {}),
            frozenset({"admin"}),
        )
    ],
    "mail_admin.retry_mail": [
        Case("POST", lambda s: (f"/admin/mail/{_failed_mail()}/retry", {}), frozenset({"admin"}))
    ],
    "users.remove_totp": [
        Case(
            "POST",
            lambda s: (f"/admin/users/{s.people['owner'].id}/totp/remove", {}),
            frozenset({"admin"}),
        )
    ],
    "account.reset_password": [Case("GET", _reset_link, EVERYONE)],
    # The link in a notice: it names its person and kind, signed; it asks before it acts.
    "account.unsubscribe": [Case("GET", _unsubscribe_link, EVERYONE)],
    "credentials.status_list": [Case("GET", lambda s: ("/credentials/status/0", {}), EVERYONE)],
    # A launch asked to link the owner's account. The page says so to anyone holding the
    # link; only the owner, in the browser that launched (none of these), may answer it.
    "lti.link_request": [Case("GET", lambda s: (f"/lti/link/{_link_request(s)}", {}), EVERYONE)],
    "lti.answer_link_request": [
        Case("POST", lambda s: (f"/lti/link/{_link_request(s)}", {"answer": "link"}), frozenset())
    ],
}

# Public routes: anyone may open them without logging in.
PUBLIC = {
    "credentials.verify",
    "credentials.verify_json",
    "credentials.certificate_pdf",
    "credentials.credential_jwt",
    "account.reset_password",
    "account.unsubscribe",
    "enrollment.accept_invitation",
    "enrollment.calendar_feed",
    "credentials.status_list",
    "lti.link_request",
}


def object_endpoints(app) -> set[str]:
    """Endpoints whose URL names an object (any variable part), static files aside."""
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.arguments and rule.endpoint != "static"
    }


def test_every_object_route_is_in_the_table(app):
    # Routes authenticated by an API token (not the session) have their own table.
    covered = set(CASES) | set(TOKEN_CASES)
    missing = object_endpoints(app) - covered
    assert not missing, f"add these object routes to CASES in {__file__}: {sorted(missing)}"
    stale = covered - object_endpoints(app)
    assert not stale, f"routes in CASES that no longer exist: {sorted(stale)}"


class _EmptyRoster:
    """The scenario's LMS platform: it grants a token and answers with an empty roster."""

    @staticmethod
    def access_token(platform, scopes, now):
        return "token"

    @staticmethod
    def roster(url, token):
        return []


def _lti_context(people: dict[str, User], cohort_a) -> int:
    """An LMS course the cohort's instructor launched from, feeding cohort A."""
    now = utcnow()
    platform = LtiPlatform(
        name="Canvas",
        issuer="https://canvas.example.edu",
        client_id="10000000000042",
        auth_login_url="https://canvas.example.edu/api/lti/authorize_redirect",
        auth_token_url="https://canvas.example.edu/login/oauth2/token",
        key_set_url="https://canvas.example.edu/api/lti/security/jwks",
        created_at=now,
    )
    db.session.add(platform)
    db.session.flush()
    context = LtiContext(
        platform_id=platform.id,
        deployment_id="7:a1b2c3",
        context_id="course-12",
        title="Medical Coding 101",
        memberships_url="https://canvas.example.edu/api/lti/courses/12/names_and_roles",
        cohort_id=cohort_a.id,
        created_at=now,
    )
    db.session.add(context)
    db.session.flush()
    db.session.add(
        LtiContextMember(
            context_id=context.id,
            user_id=people["cohort_instructor"].id,
            is_instructor=True,
            created_at=now,
        )
    )
    db.session.commit()
    return context.id


@pytest.fixture
def scenario(app, monkeypatch, tmp_path) -> Scenario:
    # Evidence uploads and the signing key stay in the test's own folder.
    app.config["EVIDENCE_FOLDER"] = str(tmp_path / "evidence")
    app.config["MEDIA_DIR"] = str(tmp_path / "media")
    factories.course("TERM", modules=2)
    credential = factories.credential("CPC", modules=["TERM-1", "TERM-2"])
    people = {
        "owner": factories.user(Role.STUDENT),
        "other_student": factories.user(Role.STUDENT),
        "other_instructor": factories.user(Role.INSTRUCTOR),
        "cohort_instructor": factories.user(Role.INSTRUCTOR, author=True),
        "admin": factories.user(Role.ADMIN),
    }
    cohort_a = factories.cohort(people["cohort_instructor"], credential, [people["owner"]])
    cohort_b = factories.cohort(people["other_instructor"], credential, [people["other_student"]])
    attempt = factories.pass_module(people["owner"], "TERM-1")
    module = catalogue.modules_by_code(["TERM-1"])["TERM-1"]
    monkeypatch.setattr(platform_api, "access_token", _EmptyRoster.access_token)
    monkeypatch.setattr(platform_api, "roster", _EmptyRoster.roster)
    context_id = _lti_context(people, cohort_a)
    return Scenario(people, cohort_a, cohort_b, module.id, attempt.id, credential, context_id)


def _call(client, case: Case, s: Scenario):
    url, data = case.build(s)
    if case.method == "GET":
        # A GET reads: it writes only when its view says why (@writes_on_get).
        with count_queries() as statements:
            response = client.get(url)
        if get_may_write(client.application, url) is None:
            assert writes_in(statements) == [], f"GET {url} wrote"
        return url, response
    return url, post_form(client, url, data)


@pytest.mark.parametrize("endpoint", sorted(CASES))
def test_object_route_lets_in_only_the_right_people(app, scenario, endpoint, caplog):
    clients = {}
    for actor, person in scenario.people.items():
        clients[actor] = app.test_client()
        assert login(clients[actor], person.email).status_code == 302
    for case in CASES[endpoint]:
        for actor in ACTORS:
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="lms"):
                url, response = _call(clients[actor], case, scenario)
            status = response.status_code
            if actor in case.allowed:
                assert status in (200, 302), (endpoint, actor, url, status)
                if status == 302:
                    assert "/login" not in response.headers["Location"], (endpoint, actor)
            else:
                assert status in (403, 404), (endpoint, actor, url, status)
                denials = [
                    r
                    for r in caplog.records
                    if getattr(r, "event", None) == "access_denied" and r.path == url
                ]
                assert denials, f"denial of {url} to {actor} was not logged"
                assert denials[0].user_id == scenario.people[actor].id
                assert denials[0].status == status


@pytest.mark.parametrize("endpoint", sorted(set(CASES) - PUBLIC))
def test_anonymous_visitors_are_sent_to_log_in(app, scenario, endpoint):
    client = app.test_client()
    for case in CASES[endpoint]:
        url, response = _call(client, case, scenario)
        assert response.status_code == 302, (endpoint, url, response.status_code)
        assert response.headers["Location"].startswith("/login?next="), (endpoint, url)
