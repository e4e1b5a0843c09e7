"""The issue's "done when", tried as a new user would, through the pages only."""

import io
import json
import re

from pypdf import PdfReader
from sqlalchemy import select

from lms.auth.models import Role
from lms.credentials import badges
from lms.credentials.models import Certificate, Evidence
from lms.extensions import db
from tests import factories
from tests.conftest import csrf_token, login, post_form
from tests.vendor import OB3_ACHIEVEMENT_CREDENTIAL_SCHEMA

SCHEMA = json.loads(OB3_ACHIEVEMENT_CREDENTIAL_SCHEMA.read_text())
CCA_TREE = {
    "type": "all_of",
    "children": [
        {"type": "evidence", "kind": "hs_diploma_or_ged"},
        {"type": "module_completed", "module": "TERM-1", "min_score": 70},
        {"type": "module_completed", "module": "TERM-2", "min_score": 70},
    ],
}


def multipart(client, url, fields, filename, content):
    boundary = "----journey"
    fields = {**fields, "csrf_token": csrf_token(client)}
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    )
    body += (
        (
            f"--{boundary}\r\nContent-Disposition: form-data; "
            f'name="document"; filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_cca_student_to_verified_certificate_then_requirements_change_then_revocation(app):
    factories.course("TERM", modules=2)
    credential = factories.credential("CCA", tree=CCA_TREE)
    instructor = factories.user(Role.INSTRUCTOR)
    admin = factories.user(Role.ADMIN)
    student = factories.user(Role.STUDENT, name="Casey Coder")
    cohort = factories.cohort(instructor, credential, [student])
    factories.pass_module(student, "TERM-1")

    # the student sees the diploma missing, and uploads it
    me = app.test_client()
    login(me, student.email)
    assert "Have your high school diploma or GED verified: not submitted yet" in me.get(
        "/dashboard"
    ).get_data(as_text=True)
    response = multipart(
        me,
        "/evidence",
        {"kind": "hs_diploma_or_ged", "detail": "Lincoln High School, 2019"},
        "diploma.pdf",
        b"%PDF-1.4\n%%EOF\n",
    )
    assert response.status_code == 302

    # the instructor verifies it from the cohort's certificates page
    teacher = app.test_client()
    login(teacher, instructor.email)
    evidence_id = db.session.scalar(select(Evidence.id))
    page = teacher.get(f"/cohorts/{cohort.id}/certificates").get_data(as_text=True)
    assert "diploma.pdf" in page
    post_form(teacher, f"/cohorts/{cohort.id}/evidence/{evidence_id}", {"verify": "Verify"})
    assert db.session.scalar(select(Certificate)) is None  # TERM-2 still to do

    # the student completes the last module; the certificate appears
    module = factories.module("TERM-2")
    post_form(me, f"/modules/{module.id}/quiz", factories.answer_form("TERM-2"))
    certificate = db.session.scalar(select(Certificate))
    assert certificate is not None
    code = certificate.code
    assert code in me.get("/dashboard").get_data(as_text=True)

    # its PDF's QR code links to the verify page, which anyone can open
    anyone = app.test_client()
    reader = PdfReader(io.BytesIO(anyone.get(f"/verify/{code}/certificate.pdf").data))
    (link,) = [a.get_object()["/A"]["/URI"] for a in reader.pages[0]["/Annots"]]
    assert link == f"http://localhost/verify/{code}"
    page = anyone.get(link.removeprefix("http://localhost")).get_data(as_text=True)
    assert "Valid." in page and "Casey Coder" in page

    # the OB3 credential validates and verifies
    import jsonschema

    token = anyone.get(f"/verify/{code}/credential.jwt").get_data(as_text=True)
    claims = badges.verify_token(token, anyone.get("/.well-known/jwks.json").get_json())
    jsonschema.Draft201909Validator(SCHEMA).validate(claims)

    # an admin changes the CCA requirements; the certificate keeps its version
    boss = app.test_client()
    login(boss, admin.email)
    new_tree = {
        **CCA_TREE,
        "children": [*CCA_TREE["children"], {"type": "course_completed", "course": "TERM"}],
    }
    assert (
        post_form(
            boss, f"/admin/credentials/{credential.id}", {"tree": json.dumps(new_tree)}
        ).status_code
        == 302
    )
    page = anyone.get(f"/verify/{code}").get_data(as_text=True)
    assert "Valid." in page
    assert re.search(r"<dt>Requirements version</dt><dd>1</dd>", page)
    matrix = teacher.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "requirements version 2" in matrix and "Every module of TERM" in matrix

    # revoking it flips the verify page to revoked
    post_form(
        teacher,
        f"/cohorts/{cohort.id}/certificates/{certificate.id}/revoke",
        {"public_reason": "issued_in_error", "note": "Entered for the wrong cohort."},
    )
    assert "Revoked." in anyone.get(f"/verify/{code}").get_data(as_text=True)
    assert anyone.get(f"/verify/{code}.json").get_json()["status"] == "revoked"
