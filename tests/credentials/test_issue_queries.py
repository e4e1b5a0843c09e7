"""Judge once, issue many: issuing to every ready student of a cohort takes the same number of
SQL statements for 1 student as for 30, and a quiz pass that makes a student ready issues the
certificate in a pinned number of statements."""

from sqlalchemy import func, select

from lms.auth.models import Role
from lms.credentials import service as credentials
from lms.credentials.models import Certificate, CertificateEvent, CertificateStatus
from lms.extensions import db
from lms.ledger import audit
from lms.ledger import service as ledger
from lms.ledger.models import AuditEvent, LedgerEntry, LedgerKind
from tests import factories
from tests.conftest import ON_POSTGRES, count_queries, csrf_token, login


def ready_cohort(size: int):
    """A cohort of ``size`` students who passed the module its credential asks for, with
    automatic issue off: all ready, none issued."""
    course = f"R{size}"
    factories.course(course, modules=1)
    credential = factories.credential(f"C{size}", modules=[f"{course}-1"])
    instructor = factories.user(Role.INSTRUCTOR)
    cohort = factories.cohort(instructor, credential)
    credentials.set_auto_issue(instructor, cohort.id, False, factories.NOW)
    module = factories.module(f"{course}-1")
    students = factories.many_students(cohort, size, prefix=f"ready{size}-")
    for student in students:
        ledger.append_entry(
            student=student,
            kind=LedgerKind.MODULE_COMPLETED,
            module_id=module.id,
            score=90,
            source="quiz",
            actor=student,
            now=factories.NOW,
        )
    db.session.commit()
    return instructor, cohort, students


def count_of(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def issue_to_all(app, size: int) -> int:
    """Statements of the "issue to every ready student" POST for a cohort of ``size``."""
    instructor, cohort, students = ready_cohort(size)
    # the request's own statements: each certificate's mail is sent once the response is out
    # (as in production; tests/test_mail.py), not counted here
    app.config["MAIL_DELIVERY"] = "after_response"
    client = app.test_client()
    login(client, instructor.email)
    token = csrf_token(client)
    url = f"/cohorts/{cohort.id}/certificates/issue"
    with count_queries() as statements:
        response = client.post(url, data={"student_id": "", "csrf_token": token})
    assert response.status_code == 302
    ids = [s.id for s in students]
    mine = Certificate.credential_id == cohort.credential_id
    assert count_of(Certificate, mine) == size
    assert (
        count_of(
            CertificateEvent,
            CertificateEvent.certificate_id.in_(select(Certificate.id).where(mine)),
        )
        == size
    )
    assert (
        count_of(
            LedgerEntry,
            LedgerEntry.kind == LedgerKind.CERTIFICATE_ISSUED,
            LedgerEntry.student_id.in_(ids),
        )
        == size
    )
    assert (
        count_of(
            AuditEvent,
            AuditEvent.action == "certificate.issued",
            AuditEvent.target_id.in_(
                [str(i) for i in db.session.scalars(select(Certificate.id).where(mine))]
            ),
        )
        == size
    )
    return len(statements)


def test_issuing_to_every_ready_student_costs_the_same_for_1_6_and_30(app):
    counts = {size: issue_to_all(app, size) for size in (1, 6, 30)}
    assert counts[1] == counts[6] == counts[30], counts
    # the audit events of a bulk issue chain like any others
    assert audit.verify_chain().intact


def test_a_bulk_issue_supersedes_older_certificates_in_the_same_statements(app):
    instructor, _, students = ready_cohort(3)
    credential = credentials.get_credential_by_code("C3")
    first = credentials.issue_to_ready_students(instructor, credential, students, factories.NOW)
    credentials.save_requirements(
        credential, {"type": "module_completed", "module": "R3-1"}, None, factories.NOW
    )
    db.session.commit()
    with count_queries() as statements:
        second = credentials.issue_to_ready_students(
            instructor, credential, students, factories.NOW
        )
    db.session.commit()
    assert len(second) == 3
    for old in first:
        db.session.refresh(old)
        assert old.status is CertificateStatus.SUPERSEDED
    replaced = db.session.scalars(
        select(CertificateEvent.replaced_by_id).where(
            CertificateEvent.certificate_id.in_([c.id for c in first])
        )
    ).all()
    assert sorted(r for r in replaced if r) == sorted(c.id for c in second)
    # judged once; one UPDATE for the superseded, and one for the students' unread-notice
    # counts (their "certificate issued" notices), whatever their number
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 2
    assert len([s for s in updates if s.lstrip().upper().startswith("UPDATE CERTIFICATE")]) == 1
    assert len([s for s in statements if "INSERT INTO notice" in s]) == 1
    assert len([s for s in statements if "FROM requirement_set" in s]) == 1


# One quiz pass that makes a student ready, with automatic issue on: the request and the
# quiz (its attempt, grading, audit event and ledger entry), enrollment's signal handler
# loading the student's cohorts (3), LTI's (1), and credentials' judging and issuing (14):
# the cohort's policy, the requirements and their modules, three queries of facts, the
# certificates held, then the certificate (with its savepoint), its event, its audit event
# and its ledger entry. PostgreSQL takes the audit chain's lock twice and has no BEGIN
# IMMEDIATE. It was 55 (56 on PostgreSQL) when readiness was judged twice and every fact was
# gathered whatever the tree asked. The attempt's insert runs in a savepoint (two statements,
# issue 20: its number is unique, so a racing start is refused), and the courses split read
# the attempt once less. The certificate's mail (issue 19 item 12) adds two: the student's
# opt-outs and the outbox row; it is sent after the response, not counted here. The student's
# in-app "certificate issued" notice adds two more (the notice, and the unread count on the
# student's row). The cohort page's read model (issue 21) judges the student again in their
# cohort in the same transaction and writes the row: 18 more, per cohort the student is in,
# whatever the cohort's size (the cohort, its plan and policy, the facts of one student, the
# stored row and its update).
QUIZ_PASS_STATEMENTS = 69 if ON_POSTGRES else 68


def test_a_quiz_pass_that_makes_a_student_ready_issues_in_a_pinned_number_of_statements(
    app, client
):
    factories.course("TERM", modules=1)
    credential = factories.credential("CPC", modules=["TERM-1"])
    instructor = factories.user(Role.INSTRUCTOR)
    student = factories.user(Role.STUDENT)
    factories.cohort(instructor, credential, [student])
    module = factories.module("TERM-1")
    login(client, student.email)
    token = csrf_token(client)
    answers = factories.answer_form("TERM-1")
    app.config["MAIL_DELIVERY"] = "after_response"
    with count_queries() as statements:
        response = client.post(f"/modules/{module.id}/quiz", data={**answers, "csrf_token": token})
    assert response.status_code == 302
    assert db.session.scalars(select(Certificate.student_id)).all() == [student.id]
    assert len(statements) == QUIZ_PASS_STATEMENTS, "\n".join(statements)
