"""Revocation that finishes, and that a verifier can see (issues 19 and 20).

An independent verifier is written here with jwcrypto (not the library that signs) and
1EdTech's official JSON Schema: it follows the credential's ``kid`` to the key, checks the
signature and the schema, then fetches the W3C Bitstring Status List the credential names and
reads its bit. It must find the demo's valid certificate valid and its revoked one revoked.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import re
from datetime import timedelta
from urllib.parse import urlsplit

import jsonschema
import pytest
from jwcrypto import jwk, jws
from pypdf import PdfReader
from sqlalchemy import func, select

from lms import signing
from lms.auth.models import Role, User
from lms.credentials import badges
from lms.credentials import service as credentials
from lms.credentials.models import Certificate, CertificateStatus
from lms.db import utcnow
from lms.demo import seed
from lms.extensions import db
from tests import factories
from tests.conftest import login, post_form
from tests.vendor import OB3_ACHIEVEMENT_CREDENTIAL_SCHEMA

SCHEMA = json.loads(OB3_ACHIEVEMENT_CREDENTIAL_SCHEMA.read_text())


def fetch(client, url: str):
    """GET an absolute URL of the app through the test client (as a verifier would)."""
    parts = urlsplit(url)
    return client.get(parts.path + (f"?{parts.query}" if parts.query else ""))


def verified_payload(client, token: str) -> dict:
    """What an independent verifier does with a VC-JWT: follow its kid to the key set, find
    the key, check the signature with jwcrypto; the payload."""
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == "RS256" and header["kid"].startswith("http")
    key_set = fetch(client, header["kid"].split("#")[0])
    assert key_set.headers["Access-Control-Allow-Origin"] == "*"
    keys = jwk.JWKSet.from_json(key_set.get_data(as_text=True))
    key = keys.get_key(header["kid"])
    assert key is not None, f"{header['kid']} is not a published key"
    signed = jws.JWS()
    signed.deserialize(token)
    signed.verify(key)  # raises on a bad signature
    return json.loads(signed.payload)


def independent_status(client, token: str) -> str:
    """valid or revoked, as a verifier outside the app finds it."""
    credential = verified_payload(client, token)
    jsonschema.Draft201909Validator(SCHEMA).validate(credential)
    assert credential["sub"] == credential["credentialSubject"]["id"]
    entry = credential["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry" and entry["statusPurpose"] == "revocation"
    listing = fetch(client, entry["statusListCredential"])
    assert listing.status_code == 200 and listing.mimetype == "application/vc+jwt"
    assert listing.headers["Access-Control-Allow-Origin"] == "*"
    status_list = verified_payload(client, listing.get_data(as_text=True))
    assert status_list["id"] == entry["statusListCredential"]
    assert status_list["issuer"]["id"] == credential["issuer"]["id"]
    encoded = status_list["credentialSubject"]["encodedList"]
    assert encoded[0] == "u"  # multibase base64url
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(bits) * 8 >= 131_072
    index = int(entry["statusListIndex"])
    return "revoked" if bits[index // 8] & (0x80 >> (index % 8)) else "valid"


def test_the_demo_s_valid_and_revoked_credentials_as_an_independent_verifier_sees_them(app, client):
    app.config["PUBLIC_BASE_URL"] = "http://localhost"  # as production: one public address
    result = seed.seed_demo(utcnow())
    db.session.commit()
    valid = client.get(f"/verify/{result.certificate_code}/credential.jwt")
    assert valid.status_code == 200
    assert valid.headers["Access-Control-Allow-Origin"] == "*"
    assert independent_status(client, valid.get_data(as_text=True)) == "valid"

    # A revoked certificate gets no fresh credential...
    gone = client.get(f"/verify/{result.revoked_code}/credential.jwt")
    assert gone.status_code == 410
    # ...and the copy its holder downloaded while it was valid is found revoked.
    db.session.expunge_all()  # load it whole, as the app does
    revoked = credentials.get_certificate_by_code(result.revoked_code)
    assert revoked.status is CertificateStatus.REVOKED
    issuer = badges.IssuerProfile("http://localhost", app.config["SCHOOL_NAME"])
    credential = badges.achievement_credential(revoked, issuer)
    old_copy = badges.sign_credential(credential, signing.store())
    assert independent_status(client, old_copy) == "revoked"


@pytest.fixture
def cpc(app):
    """A CPC cohort (one module) with a ready student whose certificate was issued."""
    factories.course("TERM", modules=2)
    credential = factories.credential("CPC", modules=["TERM-1"])
    instructor = factories.user(Role.INSTRUCTOR)
    ada = factories.user(Role.STUDENT, name="Ada Lovelace")
    cohort = factories.cohort(instructor, credential, [ada])
    factories.pass_module(ada, "TERM-1")  # issued automatically
    return instructor, ada, cohort


def revoke(client, cohort, certificate):
    url = f"/cohorts/{cohort.id}/certificates/{certificate.id}/revoke"
    data = {"public_reason": "issued_in_error", "note": "Wrong student."}
    assert post_form(client, url, data).status_code == 302


def test_a_revoked_certificate_can_be_issued_again_by_the_instructor_only(app, client, cpc):
    instructor, ada, cohort = cpc
    first = db.session.scalar(select(Certificate))
    login(client, instructor.email)
    revoke(client, cohort, first)
    page = client.get(f"/cohorts/{cohort.id}/certificates").get_data(as_text=True)
    assert "Issue again" in page and ">Revoked</a>" in page
    # the row's form, as the browser sends it, names the student once (an empty student_id
    # before it once turned "Issue again" into the bulk button)
    row_form = re.search(
        r"<form[^>]*certificates/issue[^>]*>(?:(?!</form>).)*Issue again", page, re.S
    )
    inputs = re.findall(r'<input[^>]*name="student_id"[^>]*>', row_form.group(0))
    assert [re.search(r'value="([^"]*)"', tag).group(1) for tag in inputs] == [str(ada.id)]
    # Neither a later pass (automatic issue) nor the bulk button gives it back by themselves.
    factories.pass_module(db.session.get(User, ada.id), "TERM-2")
    response = post_form(client, f"/cohorts/{cohort.id}/certificates/issue", {})
    assert "No student is ready without a certificate already." in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1
    # The instructor issues it again on the student's row: a new certificate, a new code.
    response = post_form(
        client, f"/cohorts/{cohort.id}/certificates/issue", {"student_id": str(ada.id)}
    )
    assert response.status_code == 302
    old, new = db.session.scalars(select(Certificate).order_by(Certificate.id)).all()
    assert (old.status, new.status) == (CertificateStatus.REVOKED, CertificateStatus.ISSUED)
    assert new.code != old.code and new.requirement_set_id == old.requirement_set_id
    page = client.get(f"/cohorts/{cohort.id}/certificates").get_data(as_text=True)
    assert "Issue again" not in page
    anyone = app.test_client()
    assert anyone.get(f"/verify/{old.code}.json").get_json()["status"] == "revoked"
    assert anyone.get(f"/verify/{new.code}.json").get_json()["status"] == "issued"
    # Only one valid certificate per version, however it is asked for.
    refused = post_form(
        client, f"/cohorts/{cohort.id}/certificates/issue", {"student_id": str(ada.id)}
    )
    assert refused.status_code == 409


def test_the_student_s_dashboard_says_the_certificate_was_revoked_and_why(app, client, cpc):
    instructor, ada, cohort = cpc
    certificate = db.session.scalar(select(Certificate))
    code = certificate.code
    student = app.test_client()
    login(student, ada.email)
    assert "You are ready: your CPC readiness certificate was issued" in student.get(
        "/dashboard"
    ).get_data(as_text=True)
    login(client, instructor.email)
    revoke(client, cohort, certificate)

    page = student.get("/dashboard").get_data(as_text=True)

    assert "You are ready" not in page
    assert f"Your CPC readiness certificate (code <code>{code}</code>) was revoked on" in page
    assert "Issued in error" in page  # the public reason, never the private note
    assert "Wrong student." not in page
    assert "You meet every requirement. Your instructor can issue a new certificate." in page


def _pdf_text(client, code: str) -> list[str]:
    response = client.get(f"/verify/{code}/certificate.pdf")
    assert response.status_code == 200
    return [page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages]


def test_the_pdf_of_a_certificate_no_longer_valid_is_stamped_on_every_page(app, client, cpc):
    instructor, _ada, cohort = cpc
    certificate = db.session.scalar(select(Certificate))
    code = certificate.code
    assert all("REVOKED" not in text and "EXPIRED" not in text for text in _pdf_text(client, code))
    # Expired: its end date has passed.
    certificate.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    assert all("EXPIRED" in text for text in _pdf_text(client, code))
    certificate = db.session.scalar(select(Certificate))
    certificate.expires_at = None
    db.session.commit()
    login(client, instructor.email)
    revoke(client, cohort, certificate)
    pages = _pdf_text(client, code)
    assert pages and all("REVOKED" in text and "no longer valid" in text for text in pages)


def test_the_public_documents_are_open_to_browser_verifiers(client, cpc):
    certificate = db.session.scalar(select(Certificate))
    for path in (f"/verify/{certificate.code}.json", "/credentials/status/0"):
        assert client.get(path).headers["Access-Control-Allow-Origin"] == "*"
