"""Certificates: issue (one or a cohort), revoke, supersede, expire; /verify as HTML and JSON;
the PDF with its QR code; the Open Badges 3.0 VC-JWT and the published keys."""

import base64
import io
import json
from datetime import timedelta

import jsonschema
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pypdf import PdfReader
from sqlalchemy import func, select

from lms.auth.models import Role
from lms.credentials import badges, pdf
from lms.credentials import service as credentials
from lms.credentials.models import (
    Certificate,
    CertificateEvent,
    CertificateEventKind,
    CertificateStatus,
)
from lms.enrollment.models import Cohort
from lms.errors import Conflict
from lms.extensions import db
from lms.ledger.models import AuditEvent, LedgerEntry, LedgerKind
from tests import factories
from tests.conftest import count_queries, login, post_form
from tests.vendor import OB3_ACHIEVEMENT_CREDENTIAL_SCHEMA

SCHEMA_FILE = OB3_ACHIEVEMENT_CREDENTIAL_SCHEMA


@pytest.fixture
def cpc(app):
    """A CPC cohort (TERM-1 at 70%) with two students; the credential is valid 12 months."""
    factories.course("TERM", modules=2)
    credential = factories.credential("CPC", modules=["TERM-1"])
    credential.validity_months = 12
    db.session.commit()
    instructor = factories.user(Role.INSTRUCTOR)
    ada = factories.user(Role.STUDENT, name="Ada Lovelace")
    ben = factories.user(Role.STUDENT, name="Ben Carter")
    cohort = factories.cohort(instructor, credential, [ada, ben])
    return credential, instructor, ada, ben, cohort


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_passing_the_last_module_issues_with_expiry_and_an_event(cpc):
    credential, _, ada, _, _ = cpc
    factories.pass_module(ada, "TERM-1")
    certificate = db.session.scalar(select(Certificate))
    assert certificate.status is CertificateStatus.ISSUED
    assert certificate.expires_at == factories.NOW.replace(year=2027)
    events = db.session.scalars(select(CertificateEvent)).all()
    assert [(e.certificate_id, e.kind) for e in events] == [
        (certificate.id, CertificateEventKind.ISSUED)
    ]
    assert certificate.status_at(factories.NOW + timedelta(days=366)) is CertificateStatus.EXPIRED


def test_instructor_issues_all_ready_students_at_once_and_not_twice(app, client, cpc):
    credential, instructor, ada, ben, cohort = cpc
    # Auto-issue happens on a completion; a student ready before a requirements change is
    # only re-issued by the instructor.
    factories.pass_module(ada, "TERM-2")
    factories.pass_module(ben, "TERM-2")
    credentials.save_requirements(
        credential, {"type": "module_completed", "module": "TERM-2"}, None, factories.NOW
    )
    db.session.commit()
    login(client, instructor.email)
    page = client.get(f"/cohorts/{cohort.id}/certificates").get_data(as_text=True)
    assert "Issue to all 2 ready students" in page

    response = post_form(client, f"/cohorts/{cohort.id}/certificates/issue", {"student_id": ""})
    assert response.status_code == 302
    assert count(Certificate) == 2
    page = client.get(f"/cohorts/{cohort.id}/certificates").get_data(as_text=True)
    assert "2 certificates issued." in page

    # one student, again: 409 and nothing changes
    audits = count(AuditEvent)
    response = post_form(
        client, f"/cohorts/{cohort.id}/certificates/issue", {"student_id": str(ada.id)}
    )
    assert response.status_code == 409
    assert "already has a CPC certificate for version 2" in response.get_data(as_text=True)
    assert (count(Certificate), count(AuditEvent)) == (2, audits)


def test_issuing_to_a_student_who_is_not_ready_is_409(client, cpc):
    _, instructor, ada, _, cohort = cpc
    login(client, instructor.email)
    response = post_form(
        client, f"/cohorts/{cohort.id}/certificates/issue", {"student_id": str(ada.id)}
    )
    assert response.status_code == 409
    assert "Ada Lovelace is not ready for CPC" in response.get_data(as_text=True)
    assert count(Certificate) == count(CertificateEvent) == 0


def test_other_instructors_cannot_issue_or_revoke(app, client, cpc):
    credential, instructor, ada, _, cohort = cpc
    factories.pass_module(ada, "TERM-1")
    certificate = db.session.scalar(select(Certificate))
    other = factories.user(Role.INSTRUCTOR)
    login(client, other.email)
    assert client.get(f"/cohorts/{cohort.id}/certificates").status_code == 404
    response = post_form(
        client,
        f"/cohorts/{cohort.id}/certificates/{certificate.id}/revoke",
        {"public_reason": "other", "note": "no"},
    )
    assert response.status_code == 404
    db.session.refresh(certificate)
    assert certificate.status is CertificateStatus.ISSUED


def test_revoke_with_reason_flips_verify_and_twice_is_409(app, client, cpc):
    _, instructor, ada, _, cohort = cpc
    factories.pass_module(ada, "TERM-1")
    certificate = db.session.scalar(select(Certificate))
    login(client, instructor.email)
    url = f"/cohorts/{cohort.id}/certificates/{certificate.id}/revoke"
    assert "Reason shown on the verification page" in client.get(url).get_data(as_text=True)
    # Both mistakes at once, each beside its field, and nothing changes.
    refused = post_form(client, url, {"public_reason": "because", "note": "  "})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Not a valid choice" in page and "stays private" in page
    db.session.refresh(certificate)
    assert certificate.status is CertificateStatus.ISSUED
    response = post_form(
        client,
        url,
        {"public_reason": "academic_misconduct", "note": "Quiz answers were shared."},
    )
    assert response.status_code == 302
    db.session.refresh(certificate)
    assert certificate.status is CertificateStatus.REVOKED
    kinds = db.session.scalars(select(CertificateEvent.kind).order_by(CertificateEvent.id)).all()
    assert kinds == [CertificateEventKind.ISSUED, CertificateEventKind.REVOKED]
    assert LedgerKind.CERTIFICATE_REVOKED in db.session.scalars(select(LedgerEntry.kind)).all()

    events = count(CertificateEvent)
    response = post_form(client, url, {"public_reason": "other", "note": "Again"})
    assert response.status_code == 409
    assert count(CertificateEvent) == events

    # The public sees the reason chosen from the list, never the instructor's note.
    anonymous = app.test_client()
    page = anonymous.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert "Revoked." in page and "Academic misconduct" in page
    assert "Quiz answers were shared." not in page
    data = anonymous.get(f"/verify/{certificate.code}.json").get_json()
    assert data["status"] == "revoked" and data["valid"] is False
    assert data["revocation_reason"] == "Academic misconduct"
    assert "Quiz answers" not in json.dumps(data)
    note = db.session.scalar(
        select(CertificateEvent.reason).where(CertificateEvent.kind == CertificateEventKind.REVOKED)
    )
    assert note == "Quiz answers were shared."  # kept for the school's records


def test_reissue_under_a_newer_version_supersedes_and_keeps_the_old_version(app, client, cpc):
    credential, instructor, ada, _, _ = cpc
    factories.pass_module(ada, "TERM-1")
    first = db.session.scalar(select(Certificate))
    credentials.save_requirements(
        credential,
        {"type": "all_of", "children": [{"type": "module_completed", "module": "TERM-1"}]},
        None,
        factories.NOW,
    )
    db.session.commit()
    # the change alone rewrites nothing
    db.session.refresh(first)
    assert first.status is CertificateStatus.ISSUED and first.snapshot["requirement_version"] == 1

    second = credentials.issue_certificate(ada, credential, instructor, factories.NOW)
    db.session.commit()
    db.session.refresh(first)
    assert first.status is CertificateStatus.SUPERSEDED
    event = db.session.scalar(
        select(CertificateEvent).where(CertificateEvent.kind == CertificateEventKind.SUPERSEDED)
    )
    assert (event.certificate_id, event.replaced_by_id) == (first.id, second.id)
    data = client.get(f"/verify/{first.code}.json").get_json()
    assert (data["status"], data["requirement_version"]) == ("superseded", 1)
    assert client.get(f"/verify/{second.code}.json").get_json()["requirement_version"] == 2


def test_verify_json_answers_valid_and_expired_with_nothing_more(app, client, cpc):
    _, _, ada, _, _ = cpc
    factories.pass_module(ada, "TERM-1")
    certificate = db.session.scalar(select(Certificate))
    data = client.get(f"/verify/{certificate.code.lower()}.json").get_json()
    assert data == {
        "code": certificate.code,
        "title": "Exam readiness: AAPC CPC® examination",
        "disclaimer": (
            "This is not an AAPC certification. It does not certify Ada Lovelace as a CPC®. "
            "Demo School of Medical Billing and Coding is not affiliated with or endorsed by AAPC."
        ),
        "trademarks": "CPC® is a registered trademark of AAPC.",
        "status": "issued",
        "valid": True,
        "student": "Ada Lovelace",
        "credential": {"code": "CPC", "name": "Credential CPC", "issuing_body": "AAPC"},
        "issued_on": "2026-11-02",
        "expires_on": "2027-11-02",
        "revoked_on": None,
        "revocation_reason": None,
        "requirement_version": 1,
    }
    assert ada.email not in json.dumps(data)
    # past the end date it answers expired, computed at read time
    certificate.expires_at = factories.NOW - timedelta(days=1)
    db.session.commit()
    assert client.get(f"/verify/{certificate.code}.json").get_json()["status"] == "expired"
    assert "Expired." in client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert client.get("/verify/AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH.json").status_code == 404


def test_pdf_names_school_student_credential_and_links_its_qr_to_verify(app, client, cpc):
    _, _, ada, _, _ = cpc
    factories.pass_module(ada, "TERM-1")
    certificate = db.session.scalar(select(Certificate))
    app.config["PUBLIC_BASE_URL"] = "https://school.example"
    response = client.get(f"/verify/{certificate.code}/certificate.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = reader.pages[0].extract_text()
    for expected in [
        app.config["SCHOOL_NAME"],
        "Ada Lovelace",
        "CPC",
        "02 November 2026",
        "02 November 2027",
        certificate.code,
    ]:
        assert expected in text
    verify_url = f"https://school.example/verify/{certificate.code}"
    links = [a.get_object()["/A"]["/URI"] for a in reader.pages[0]["/Annots"]]
    assert links == [verify_url]
    # the QR code drawn is the one of that address
    matrix = pdf.qr_matrix(verify_url)
    assert len(matrix) >= 21 and any(any(row) for row in matrix)


def _jwt_part(token, index):
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_open_badge_validates_against_the_schema_and_verifies_with_published_key(app, client, cpc):
    _, _, ada, _, _ = cpc
    factories.pass_module(ada, "TERM-1")
    certificate = db.session.scalar(select(Certificate))
    token = client.get(f"/verify/{certificate.code}/credential.jwt").get_data(as_text=True)
    jwks = client.get("/.well-known/jwks.json").get_json()
    assert [k["kty"] for k in jwks["keys"]] == ["RSA"] and "d" not in jwks["keys"][0]
    assert _jwt_part(token, 0)["kid"] == jwks["keys"][0]["kid"]

    claims = badges.verify_token(token, jwks)
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft201909Validator(schema).validate(claims)
    assert claims["jti"] == f"http://localhost/verify/{certificate.code}"
    assert claims["iss"] == claims["issuer"]["id"] == "http://localhost/"
    assert claims["validFrom"] == "2026-11-02T15:30:00Z"
    assert claims["validUntil"] == "2027-11-02T15:30:00Z"
    assert "CPC" in claims["credentialSubject"]["achievement"]["name"]
    assert ada.email not in token  # the student is named by a salted hash only
    # the key is created once and reused
    assert client.get("/.well-known/jwks.json").get_json() == jwks


def test_a_tampered_or_forged_token_fails_verification(app, client, cpc):
    _, _, ada, _, _ = cpc
    factories.pass_module(ada, "TERM-1")
    certificate = db.session.scalar(select(Certificate))
    token = client.get(f"/verify/{certificate.code}/credential.jwt").get_data(as_text=True)
    jwks = client.get("/.well-known/jwks.json").get_json()
    header, payload, signature = token.split(".")
    claims = _jwt_part(token, 1)
    claims["credentialSubject"]["achievement"]["name"] = "Ready to sit the CCS exam"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(badges.SignatureInvalid):
        badges.verify_token(f"{header}.{forged_payload}.{signature}", jwks)
    # signed by another key with the school's kid
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, other, algorithm="RS256", headers=_jwt_part(token, 0))
    with pytest.raises(badges.SignatureInvalid):
        badges.verify_token(forged, jwks)
    # alg "none" is refused
    none_header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    with pytest.raises(badges.SignatureInvalid):
        badges.verify_token(f"{none_header}.{payload}.", jwks)


def test_service_refuses_a_second_revocation_and_not_ready(cpc):
    credential, instructor, ada, ben, _ = cpc
    with pytest.raises(Conflict, match="not ready"):
        credentials.issue_certificate(ben, credential, instructor, factories.NOW)
    db.session.rollback()
    factories.pass_module(ada, "TERM-1")
    certificate = db.session.scalar(select(Certificate))
    # the instructor teaches Ada in a CPC cohort (what enrollment checks before vouching)
    credentials.revoke_certificate(
        instructor, certificate, "other", "Mistake", factories.NOW, instructor_may=True
    )
    db.session.commit()
    with pytest.raises(Conflict, match="already revoked"):
        credentials.revoke_certificate(
            instructor, certificate, "other", "Mistake", factories.NOW, instructor_may=True
        )


def test_cohort_can_turn_automatic_issue_off_and_on(app, client, cpc):
    _, instructor, ada, ben, cohort = cpc
    login(client, instructor.email)
    url = f"/cohorts/{cohort.id}/certificates/auto-issue"
    assert post_form(client, url, {"enabled": "maybe"}).status_code == 400
    assert post_form(client, url, {"enabled": "0"}).status_code == 302
    factories.pass_module(ada, "TERM-1")
    assert count(Certificate) == 0  # ready, but waiting for the instructor
    page = client.get(f"/cohorts/{cohort.id}/certificates").get_data(as_text=True)
    assert "Issue to all 1 ready student" in page
    assert post_form(client, url, {"enabled": "1"}).status_code == 302
    factories.pass_module(ben, "TERM-1")
    assert db.session.scalars(select(Certificate.student_id)).all() == [ben.id]
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action == "cohort.auto_issue_changed")
    ).all()
    assert len(actions) == 2
    other = factories.user(Role.INSTRUCTOR)
    stranger = app.test_client()
    login(stranger, other.email)
    assert post_form(stranger, url, {"enabled": "0"}).status_code == 404


def test_verify_page_says_superseded_and_student_sees_the_apprentice_path(app, client, cpc):
    credential, instructor, ada, _, cohort = cpc
    factories.pass_module(ada, "TERM-1")
    first = db.session.scalar(select(Certificate))
    credentials.save_requirements(
        credential, {"type": "module_completed", "module": "TERM-1"}, None, factories.NOW
    )
    credentials.issue_certificate(ada, credential, instructor, factories.NOW)
    db.session.commit()
    page = client.get(f"/verify/{first.code}").get_data(as_text=True)
    assert "Superseded." in page and "<dt>Requirements version</dt><dd>1</dd>" in page

    # The apprentice path comes with CPC's entry of the shipped catalogue.
    credentials.sync_catalog([e for e in credentials.read_catalog() if e["code"] == "CPC"])
    db.session.commit()
    login(client, ada.email)
    page = client.get("/evidence").get_data(as_text=True)
    assert "After the CPC exam: the apprentice designation" in page
    assert "Have 24 months of verified coding experience: none verified yet" in page
    assert "Have your completion of AAPC&#39;s Practicode verified: not submitted yet" in page
    teacher = app.test_client()
    login(teacher, instructor.email)
    page = teacher.get(f"/cohorts/{cohort.id}/certificates").get_data(as_text=True)
    assert (
        "Apprentice designation (information only): Have 24 months of verified coding "
        "experience: none verified yet" in page
    )


def test_one_pass_issues_every_credential_it_completes_judged_together(app):
    factories.course("TERM", modules=1)
    codes = ("CPC", "COC", "CPB", "CRC")
    cpc, coc, cpb, crc = (factories.credential(code, modules=["TERM-1"]) for code in codes)
    instructor = factories.user(Role.INSTRUCTOR)
    student = factories.user(Role.STUDENT)
    for credential in (cpc, coc, cpb, cpb, crc):
        factories.cohort(instructor, credential, [student])
    # CPB's second cohort and CRC's only one issue by hand: CPB's first still issues
    cohorts = db.session.scalars(select(Cohort).order_by(Cohort.id)).all()
    for cohort in cohorts[3:]:
        credentials.set_auto_issue(instructor, cohort.id, False, factories.NOW)
    db.session.commit()
    with count_queries() as statements:
        factories.pass_module(student, "TERM-1")
    issued = db.session.scalars(select(Certificate.credential_id)).all()
    assert sorted(issued) == sorted([cpc.id, coc.id, cpb.id])
    # the credentials' requirements in one query for issuing, not one each; the cohort page's
    # read model then judges the student again in each of their cohorts (issue 21), one
    # query each: bounded by the student's cohorts, never by the cohorts' sizes
    assert len([s for s in statements if "FROM requirement_set" in s]) == 1 + len(cohorts)
