"""Evidence uploads (checked by content, at most 10 MB, stored privately), downloads only by
the student, their instructors and admins, and experience counted in months."""

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.auth.models import Role
from lms.credentials import service as credentials
from lms.credentials.files import MAX_FILE_BYTES
from lms.credentials.models import Certificate, Evidence
from lms.extensions import db
from lms.ledger.models import AuditEvent, LedgerEntry, LedgerKind
from tests import factories
from tests.conftest import csrf_token, login, post_form

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


@pytest.fixture
def cca(app):
    factories.course("TERM", modules=1)
    tree = {
        "type": "all_of",
        "children": [
            {"type": "evidence", "kind": "hs_diploma_or_ged"},
            {"type": "experience_months", "min_months": 6},
        ],
    }
    credential = factories.credential("CCA", tree=tree)
    instructor = factories.user(Role.INSTRUCTOR)
    student = factories.user(Role.STUDENT, name="Casey Coder")
    cohort = factories.cohort(instructor, credential, [student])
    return credential, instructor, student, cohort


def upload(client, content, filename, **fields):
    """Post the evidence form as multipart, built here: the test client's own encoder leaves
    a temporary file open for bodies over 500 kB."""
    data = {"kind": "hs_diploma_or_ged", "detail": "Lincoln High School, 2019", **fields}
    data["csrf_token"] = csrf_token(client)
    boundary = "----evidence-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in data.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="document"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return client.post(
        "/evidence", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def stored_files(app):
    folder = Path(app.config["EVIDENCE_FOLDER"])
    return sorted(folder.iterdir()) if folder.exists() else []


def evidence_count():
    return db.session.scalar(select(func.count()).select_from(Evidence))


def test_pdf_upload_is_stored_privately_and_downloadable_by_the_right_people(app, client, cca):
    _, instructor, student, cohort = cca
    login(client, student.email)
    response = upload(client, PDF, "diploma scan.pdf")
    assert response.status_code == 302
    evidence = db.session.scalar(select(Evidence))
    assert (evidence.file_name, evidence.file_type, evidence.file_size) == (
        "diploma scan.pdf",
        "application/pdf",
        len(PDF),
    )
    (path,) = stored_files(app)
    assert path.name == evidence.file_key and "diploma" not in path.name
    assert path.read_bytes() == PDF
    assert oct(path.stat().st_mode & 0o777) == "0o600"

    url = f"/evidence/{evidence.id}/file"
    response = client.get(url)
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment")

    teacher = app.test_client()
    login(teacher, instructor.email)
    assert teacher.get(url).data == PDF
    assert "diploma scan.pdf" in teacher.get(f"/cohorts/{cohort.id}/certificates").get_data(
        as_text=True
    )
    downloads = db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "evidence.file_downloaded")
    )
    assert downloads == 2

    for outsider in (factories.user(Role.STUDENT), factories.user(Role.INSTRUCTOR)):
        other = app.test_client()
        login(other, outsider.email)
        assert other.get(url).status_code == 404
    assert app.test_client().get(url).status_code == 302  # to the login page


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (EXE, "diploma.pdf", "Only PDF, PNG and JPEG files are accepted"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "diploma.png", "Only PDF, PNG and JPEG"),
        (PDF + b"0" * MAX_FILE_BYTES, "big.pdf", "larger than 10 MB"),
        (b"", "empty.pdf", "The file is empty"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_kept(app, client, cca, content, filename, message):
    _, _, student, _ = cca
    login(client, student.email)
    ledger = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    response = upload(client, content, filename)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert evidence_count() == 0 and stored_files(app) == []
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == ledger


def test_png_is_accepted_whatever_its_extension(app, client, cca):
    _, _, student, _ = cca
    login(client, student.email)
    assert upload(client, PNG, "photo.pdf").status_code == 302
    assert db.session.scalar(select(Evidence.file_name)) == "photo.png"


def test_experience_is_counted_in_months_once_verified_and_issues_the_certificate(app, client, cca):
    credential, instructor, student, cohort = cca
    login(client, student.email)
    response = post_form(
        client,
        "/evidence",
        {
            "kind": "experience",
            "detail": "Billing clerk",
            "employer": "Riverside Clinic",
            "started_on": "2026-01-10",
            "ended_on": "2026-05-09",
        },
    )
    assert response.status_code == 302
    page = client.get("/dashboard").get_data(as_text=True)
    assert "none verified yet; some is waiting for review by your school" in page
    diploma = credentials.submit_evidence(
        student, credentials.rules.EvidenceKind.HS_DIPLOMA_OR_GED, "GED 2020", factories.NOW
    )
    credentials.decide_evidence(instructor, diploma, verified=True, reason="", now=factories.NOW)
    job_id = db.session.scalar(select(Evidence.id).where(Evidence.employer == "Riverside Clinic"))
    job = credentials.get_evidence(job_id)
    credentials.decide_evidence(instructor, job, verified=True, reason="", now=factories.NOW)
    db.session.commit()
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Have 6 months of verified coding experience: 3 months verified" in page
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0

    post_form(
        client,
        "/evidence",
        {
            "kind": "experience",
            "detail": "Coder",
            "employer": "Hillside Hospital",
            "started_on": "2026-04-01",
            "ended_on": "2026-08-01",
        },
    )
    second = db.session.scalar(select(Evidence).where(Evidence.employer == "Hillside Hospital"))
    teacher = app.test_client()
    login(teacher, instructor.email)
    post_form(teacher, f"/cohorts/{cohort.id}/evidence/{second.id}", {"verify": "Verify"})
    # Jan 10 to Aug 1, overlaps counted once: 6 whole months
    certificate = db.session.scalar(select(Certificate))
    assert certificate is not None and certificate.student_id == student.id
    kinds = db.session.scalars(
        select(LedgerEntry.kind).where(LedgerEntry.student_id == student.id)
    ).all()
    assert kinds.count(LedgerKind.EVIDENCE_SUBMITTED) == 3


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"employer": ""}, "Name the employer."),
        ({"started_on": ""}, "Give the first and last day of the work."),
        ({"ended_on": "2025-01-01"}, "The last day cannot be before the first."),
        ({"ended_on": "2030-01-01"}, "The last day cannot be in the future"),
    ],
)
def test_bad_experience_is_refused(client, cca, fields, message):
    _, _, student, _ = cca
    login(client, student.email)
    data = {
        "kind": "experience",
        "detail": "Coder",
        "employer": "Clinic",
        "started_on": "2025-06-01",
        "ended_on": "2026-06-01",
        **fields,
    }
    response = post_form(client, "/evidence", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert evidence_count() == 0


def test_a_form_with_two_problems_shows_each_beside_its_field(client, cca):
    _, _, student, _ = cca
    login(client, student.email)
    data = {
        "kind": "experience",
        "detail": "Coder",
        "employer": "  ",
        "started_on": "2025-06-01",
        "ended_on": "2025-01-01",
    }
    page = post_form(client, "/evidence", data)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert '<p class="error" id="employer-error">Name the employer.</p>' in html
    assert (
        '<p class="error" id="ended_on-error">The last day cannot be before the first.</p>' in html
    )
    assert 'id="detail-error"' not in html and 'id="started_on-error"' not in html
    assert evidence_count() == 0


def test_months_shown_to_the_reviewer(app, client, cca):
    _, instructor, student, cohort = cca
    credentials.submit_evidence(
        student,
        credentials.rules.EvidenceKind.EXPERIENCE,
        "Coder",
        factories.NOW,
        employer="Clinic",
        started_on=date(2025, 1, 1),
        ended_on=date(2026, 1, 1),
    )
    db.session.commit()
    login(client, instructor.email)
    page = client.get(f"/cohorts/{cohort.id}/certificates").get_data(as_text=True)
    assert "Clinic, 01 Jan 2025 to 01 Jan 2026 (12 months)" in page
