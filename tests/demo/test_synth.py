"""``flask --app lms synth``: a synthetic school the app itself accepts as its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.courses.models import Attempt, Module
from lms.credentials import service as credentials
from lms.credentials.models import Certificate, CertificateEvent, Credential
from lms.demo import synth
from lms.enrollment.models import Cohort, Enrollment, EnrollmentStatus
from lms.errors import InvalidInput
from lms.extensions import db
from lms.ledger import audit
from lms.ledger.models import AuditEvent, LedgerEntry, LedgerKind
from tests import factories
from tests.conftest import login

SMALL = synth.SynthParameters(
    students=90, cohorts=5, modules=12, seed=7, cohort_sizes=(10, 30), now=factories.NOW
)


def table_counts() -> dict[str, int]:
    return {
        table.name: db.session.execute(select(func.count()).select_from(table)).scalar()
        for table in db.metadata.sorted_tables
    }


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"students": 0}, "--students must be from 1"),
        ({"cohorts": 0}, "--cohorts must be at least 1"),
        ({"students": 3, "cohorts": 4}, "at most the number of students"),
        ({"modules": 2}, "--modules must be from 3"),
        ({"cohort_sizes": (0,)}, "at least 1"),
        ({"cohorts": 1, "cohort_sizes": (5, 5)}, "more cohorts than --cohorts"),
        ({"cohort_sizes": (50, 40)}, "leave at least one student"),
        ({"cohorts": 2, "cohort_sizes": (50, 30)}, "add up to --students"),
    ],
)
def test_bad_parameters_are_refused_with_the_reason(changes, problem):
    parameters = synth.SynthParameters(**{**SMALL.__dict__, **changes})
    assert any(problem in text for text in synth.parameter_problems(parameters))


def test_good_parameters_have_no_problems():
    assert synth.parameter_problems(SMALL) == []
    exact = synth.SynthParameters(students=40, cohorts=2, cohort_sizes=(10, 30))
    assert synth.parameter_problems(exact) == []


def test_synth_makes_the_cohorts_and_students_asked_for(app):
    report = synth.synthesise(SMALL)
    db.session.commit()

    students = db.session.scalar(select(func.count()).where(User.role == Role.STUDENT))
    assert students == 90
    assert db.session.scalar(select(func.count()).where(User.role == Role.ADMIN)) == 1
    sizes = [
        db.session.scalar(select(func.count()).where(Enrollment.cohort_id == cohort.id))
        for cohort in db.session.scalars(select(Cohort).order_by(Cohort.id))
    ]
    assert sizes == [10, 30, 17, 17, 16]  # the fixed sizes, then the rest shared evenly
    synthetic_modules = db.session.scalar(select(func.count()).where(Module.code.like("SYN%")))
    assert synthetic_modules == 12
    # The CPC asks for every module, a score, contact hours and a diploma.
    assert report.requirements == {"CPC": 15, "CPB": 9, "CCA": 7}
    assert report.rows["ledger_entry"] == db.session.scalar(
        select(func.count()).select_from(LedgerEntry)
    )
    assert report.rows["attempt"] > report.rows["enrollment"]


def test_every_completion_is_a_passed_attempt_and_every_pass_is_recorded(app):
    synth.synthesise(SMALL)
    db.session.commit()

    passed = {
        f"attempt:{a.id}": a
        for a in db.session.scalars(select(Attempt).where(Attempt.passed.is_(True)))
    }
    completions = db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.kind == LedgerKind.MODULE_COMPLETED)
    ).all()
    assert len(completions) == len(passed) > 0
    for entry in completions:
        attempt = passed[entry.source_ref]
        assert (attempt.student_id, attempt.score) == (entry.student_id, entry.score)
        assert entry.recorded_at == attempt.submitted_at <= factories.NOW
    failed = db.session.scalars(select(Attempt).where(Attempt.passed.is_(False))).all()
    assert failed and all(a.score < 70 for a in failed)


def test_certificates_go_to_exactly_the_students_the_engine_finds_ready(app):
    synth.synthesise(SMALL)
    db.session.commit()

    held = {(c.student_id, c.credential_id) for c in db.session.scalars(select(Certificate))}
    assert held, "some synthetic students finish their programme"
    ready = set()
    for cohort in db.session.scalars(select(Cohort)):
        credential = db.session.get(Credential, cohort.credential_id)
        active = db.session.scalars(
            select(Enrollment.student_id).where(
                Enrollment.cohort_id == cohort.id, Enrollment.status == EnrollmentStatus.ACTIVE
            )
        ).all()
        outcomes = credentials.evaluate_readiness(credential, active, factories.NOW).outcomes
        ready |= {(sid, credential.id) for sid, o in outcomes.items() if o.met}
    assert held == ready
    issued_events = db.session.scalar(select(func.count()).where(CertificateEvent.kind == "issued"))
    assert issued_events == len(held)


def test_synthetic_people_use_the_app(app, client):
    synth.synthesise(SMALL)
    db.session.commit()

    assert login(client, synth.student_email(1), synth.SYNTH_PASSWORD).status_code == 302
    page = client.get("/dashboard")
    assert page.status_code == 200
    student = db.session.scalar(select(User).where(User.email == synth.student_email(1)))
    assert student.full_name in page.get_data(as_text=True)

    teacher = app.test_client()
    assert login(teacher, synth.instructor_email(1), synth.SYNTH_PASSWORD).status_code == 302
    cohort = db.session.scalar(select(Cohort).order_by(Cohort.id))
    matrix = teacher.get(f"/cohorts/{cohort.id}")
    assert matrix.status_code == 200
    active = db.session.scalar(
        select(func.count()).where(
            Enrollment.cohort_id == cohort.id, Enrollment.status == EnrollmentStatus.ACTIVE
        )
    )
    assert active > 0
    assert matrix.get_data(as_text=True).count('<th scope="row">') == active

    certificate = db.session.scalar(select(Certificate).order_by(Certificate.id))
    assert client.get(f"/verify/{certificate.code}").status_code == 200


def test_rows_added_after_synth_get_new_ids(app):
    """Bulk rows carry their own ids: the sequences must have moved past them."""
    synth.synthesise(SMALL)
    db.session.commit()
    before = db.session.scalar(select(func.max(User.id)))
    person = factories.user(Role.STUDENT)
    assert person.id > before
    from lms.ledger import service as ledger

    entry = ledger.append_entry(
        student=person,
        kind=LedgerKind.EVIDENCE_SUBMITTED,
        source="student",
        actor=person,
        now=factories.NOW + timedelta(days=1),
    )
    db.session.commit()
    assert entry.id > 0


def test_synth_leaves_one_audit_event_and_an_intact_chain(app):
    synth.synthesise(SMALL)
    db.session.commit()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "synth.generated"))
    assert event.details["students"] == 90
    assert event.details["rows"]["ledger_entry"] > 0
    assert audit.verify_chain().broken_id is None


def test_synth_refuses_a_database_with_accounts_and_changes_nothing(app):
    factories.user(Role.ADMIN)
    before = table_counts()
    with pytest.raises(InvalidInput, match="fills an empty database"):
        synth.synthesise(SMALL)
    db.session.rollback()
    assert table_counts() == before


def test_cli_reports_what_it_made(app, runner):
    result = runner.invoke(
        args=["synth", "--students", "40", "--cohorts", "3", "--modules", "6", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "Synthetic school made" in result.output
    assert synth.SYNTH_PASSWORD in result.output
    assert synth.student_email(40) in result.output
    assert db.session.scalar(select(func.count()).where(User.role == Role.STUDENT)) == 40


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--students", "0"], "--students must be from 1"),
        (["--students", "10", "--cohort-sizes", "5,x"], "whole numbers"),
        (["--students", "ten"], "is not a valid integer"),
    ],
)
def test_cli_refuses_bad_input_and_writes_nothing(app, runner, args, message):
    before = table_counts()
    result = runner.invoke(args=["synth", *args])
    assert result.exit_code != 0
    assert message in result.output
    db.session.rollback()
    assert table_counts() == before
