"""Transcripts: a student's own, their instructors' and admins'; 404 for everyone else."""

import pytest
from sqlalchemy import select

from lms.auth.models import Role
from lms.credentials import service as credentials
from lms.credentials.rules import EvidenceKind
from lms.extensions import db
from lms.reports.models import ExportDisclosure, ExportRun
from tests import factories
from tests.conftest import count_queries, login


@pytest.fixture
def people(app):
    factories.course("TERM", modules=2)
    credential = factories.credential("CPC", modules=["TERM-1", "TERM-2"])
    teacher = factories.user(Role.INSTRUCTOR)
    other_teacher = factories.user(Role.INSTRUCTOR)
    student = factories.user(Role.STUDENT, name="Sam Rivera")
    other = factories.user(Role.STUDENT)
    factories.cohort(teacher, credential, [student])
    factories.cohort(other_teacher, credential, [other])
    factories.pass_module(student, "TERM-1")
    factories.pass_module(student, "TERM-2")
    credentials.submit_evidence(student, EvidenceKind.HS_DIPLOMA_OR_GED, "GED, 2019", factories.NOW)
    db.session.commit()
    return {"teacher": teacher, "other_teacher": other_teacher, "student": student, "other": other}


def client_for(app, user):
    client = app.test_client()
    login(client, user.email)
    return client


def test_student_reads_their_own_transcript(app, people):
    student = people["student"]
    page = client_for(app, student).get(f"/transcripts/{student.id}").get_data(as_text=True)
    assert "Transcript of Sam Rivera" in page
    assert "TERM-1 Module 1 of TERM" in page and "100%" in page and "02 Nov 2026" in page
    assert "GED, 2019" in page and "submitted" in page
    code = credentials.certificates_of([student.id])[0].code
    assert code in page
    assert "Contact hours" not in page  # no such data yet: no empty section pretending


def test_pdf_transcript(app, people):
    student = people["student"]
    response = client_for(app, student).get(f"/transcripts/{student.id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    run = db.session.get(ExportRun, int(response.headers["X-Export-Id"]))
    assert (run.dataset, run.format, run.row_count) == ("transcript", "pdf", 1)


@pytest.mark.parametrize("who", ["teacher", "admin"])
def test_instructors_of_the_student_and_admins_may_read_it(app, people, who):
    reader = factories.user(Role.ADMIN) if who == "admin" else people[who]
    student = people["student"]
    client = client_for(app, reader)
    assert client.get(f"/transcripts/{student.id}").status_code == 200
    assert client.get(f"/transcripts/{student.id}.pdf").status_code == 200
    disclosed = db.session.scalars(
        select(ExportDisclosure.student_id).join(ExportRun).where(ExportRun.actor_id == reader.id)
    ).all()
    assert disclosed == [student.id, student.id]
    log = client_for(app, student).get("/my/records/disclosures").get_data(as_text=True)
    assert reader.full_name in log


@pytest.mark.parametrize("who", ["other", "other_teacher"])
def test_everyone_else_gets_404(app, people, who):
    client = client_for(app, people[who])
    student = people["student"]
    assert client.get(f"/transcripts/{student.id}").status_code == 404
    assert client.get(f"/transcripts/{student.id}.pdf").status_code == 404
    assert db.session.scalar(select(ExportRun.id)) is None


def test_a_non_student_has_no_transcript(app, people):
    admin = factories.user(Role.ADMIN)
    assert client_for(app, admin).get(f"/transcripts/{people['teacher'].id}").status_code == 404


def test_transcript_takes_a_fixed_number_of_queries(app, people):
    from lms.db import utcnow
    from lms.reports.transcript import build_transcript

    student = people["student"]
    with count_queries() as few:
        build_transcript(student, utcnow())
    for code in ("TERM-1", "TERM-2"):
        factories.pass_module(student, code)
    with count_queries() as more:
        build_transcript(student, utcnow())
    assert len(few) == len(more)
