"""``/verify``: a public form where anyone types a certificate's code (issue 19)."""

from __future__ import annotations

from sqlalchemy import select

from lms.auth.models import Role
from lms.credentials.models import Certificate
from lms.extensions import db
from tests import factories


def test_a_typed_code_goes_to_its_page_in_any_case_and_spacing(client):
    factories.course("TERM", modules=1)
    credential = factories.credential("CPC", modules=["TERM-1"])
    ada = factories.user(Role.STUDENT)
    factories.cohort(factories.user(Role.INSTRUCTOR), credential, [ada])
    factories.pass_module(ada, "TERM-1")
    code = db.session.scalar(select(Certificate.code))
    page = client.get("/verify")
    assert page.status_code == 200 and "Certificate code" in page.get_data(as_text=True)
    typed = code.replace("-", " ").lower()
    response = client.get("/verify", query_string={"code": typed})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/verify/{code}"


def test_a_wrong_or_empty_code_comes_back_beside_the_field(client):
    for typed, status, message in [
        ("", 400, "Type the code printed on the certificate."),
        ("ABCD-EFGH", 404, "No certificate has this code."),
        ("A" * 64, 404, "No certificate has this code."),
        ("²²²²", 404, "No certificate has this code."),
    ]:
        response = client.get("/verify", query_string={"code": typed})
        assert response.status_code == status, typed
        page = response.get_data(as_text=True)
        assert 'class="field has-error"' in page and message in page
