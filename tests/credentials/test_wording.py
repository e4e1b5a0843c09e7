"""Certificates that cannot be mistaken for the credential (issue 18 item 8): the same words
on the PDF, the verification page and its JSON, and the Open Badge; and no certificate for a
credential whose awarding body the catalogue does not confirm."""

import io
import json
import re

import jsonschema
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from lms.auth.models import Role
from lms.credentials import badges
from lms.credentials import service as credentials
from lms.credentials.certificates import wording
from lms.credentials.certificates.lifecycle import AwardingBodyUnconfirmed
from lms.credentials.models import Certificate, CertificateEvent, Credential
from lms.extensions import db
from lms.ledger.models import AuditEvent, LedgerEntry
from tests import factories
from tests.conftest import login, post_form
from tests.vendor import OB3_ACHIEVEMENT_CREDENTIAL_SCHEMA

SCHOOL = "Demo School of Medical Billing and Coding"
TITLE = "Exam readiness: AAPC CPC® examination"
BODY = (
    "Ada Lovelace has completed Demo School of Medical Billing and Coding's preparation "
    "requirements for the AAPC CPC® examination."
)
DISCLAIMER = (
    "This is not an AAPC certification. It does not certify Ada Lovelace as a CPC®. "
    "Demo School of Medical Billing and Coding is not affiliated with or endorsed by AAPC."
)
ATTRIBUTION = "CPC® is a registered trademark of AAPC."


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def issued(app):
    """Ada's CPC readiness certificate, issued automatically when she passed TERM-1."""
    factories.course("TERM", modules=2)
    credential = factories.credential("CPC", modules=["TERM-1"])
    instructor = factories.user(Role.INSTRUCTOR)
    ada = factories.user(Role.STUDENT, name="Ada Lovelace")
    factories.cohort(instructor, credential, [ada])
    factories.pass_module(ada, "TERM-1")
    return db.session.scalar(select(Certificate))


# --- the words -----------------------------------------------------------------------------


def test_the_words_of_a_cpc_certificate():
    words = wording.certificate_wording(
        SCHOOL, "CPC", "Certified Professional Coder", "AAPC", "Ada Lovelace"
    )
    assert (words.title, words.body, words.disclaimer, words.attribution) == (
        TITLE,
        BODY,
        DISCLAIMER,
        ATTRIBUTION,
    )


def test_ahima_and_dual_certificates_attribute_each_registered_mark_to_its_owner():
    cca = wording.certificate_wording(SCHOOL, "CCA", "Certified Coding Associate", "AHIMA", "Bo")
    assert cca.title == "Exam readiness: AHIMA CCA® examination"
    assert cca.disclaimer == (
        "This is not an AHIMA certification. It does not certify Bo as a CCA®. "
        f"{SCHOOL} is not affiliated with or endorsed by AHIMA."
    )
    assert cca.attribution == "CCA® is a registered trademark of AHIMA."
    dual = wording.certificate_wording(SCHOOL, "CPC+CPB", "Dual", "AAPC", "Bo")
    assert dual.title == "Exam readiness: AAPC CPC® and CPB® examinations"
    assert "It does not certify Bo as a CPC® or CPB®." in dual.disclaimer
    assert dual.attribution == "CPC® and CPB® are registered trademarks of AAPC."


def test_marks_not_known_to_be_registered_get_no_registered_sign():
    cic = wording.certificate_wording(SCHOOL, "CIC", "Certified Inpatient Coder", "AAPC", "Bo")
    assert cic.title == "Exam readiness: AAPC CIC examination"
    assert "®" not in cic.title + cic.body + cic.disclaimer + cic.attribution
    assert cic.attribution == "CIC is a mark of AAPC."
    # and only the marks that appear are attributed
    assert "CPB" not in wording.attribution("AAPC", "CPC")


def test_a_school_name_ending_in_s_takes_the_apostrophe_alone():
    assert wording.possessive("Riverside Coders") == "Riverside Coders'"
    assert wording.possessive("St Mary's") == "St Mary's"
    assert wording.possessive("Riverside Academy") == "Riverside Academy's"


# --- where they appear ---------------------------------------------------------------------


def test_pdf_carries_title_body_disclaimer_and_attribution(client, issued):
    response = client.get(f"/verify/{issued.code}/certificate.pdf")
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.data))
    # lines wrap where the page is full: compare the words, whatever the line breaks
    text = " ".join(reader.pages[0].extract_text().split())
    for expected in (TITLE, BODY, DISCLAIMER, ATTRIBUTION):
        assert expected in text
    assert text.index(DISCLAIMER) < text.index(f"Code: {issued.code}")
    assert "Readiness certificate" not in text and "This certifies" not in text
    assert reader.metadata.title == f"{TITLE}: Ada Lovelace"


def test_verify_page_shows_the_disclaimer_before_the_facts(client, issued):
    page = client.get(f"/verify/{issued.code}").get_data(as_text=True)
    assert f"<h1>{TITLE}</h1>" in page
    assert DISCLAIMER in page and ATTRIBUTION in page
    assert page.index(DISCLAIMER) < page.index('<dl class="facts">')
    assert page.index(DISCLAIMER) < page.index("<dt>Student</dt>")


def test_verify_json_carries_the_disclaimer(client, issued):
    data = client.get(f"/verify/{issued.code}.json").get_json()
    assert (data["title"], data["disclaimer"], data["trademarks"]) == (
        TITLE,
        DISCLAIMER,
        ATTRIBUTION,
    )


def test_open_badge_achievement_says_it_is_not_the_credential_and_validates(client, issued):
    token = client.get(f"/verify/{issued.code}/credential.jwt").get_data(as_text=True)
    claims = badges.verify_token(token, client.get("/.well-known/jwks.json").get_json())
    jsonschema.Draft201909Validator(
        json.loads(OB3_ACHIEVEMENT_CREDENTIAL_SCHEMA.read_text())
    ).validate(claims)
    achievement = claims["credentialSubject"]["achievement"]
    assert claims["name"] == achievement["name"] == TITLE
    # the achievement is every holder's: it names none
    holder = DISCLAIMER.replace("Ada Lovelace", "its holder")
    assert achievement["description"] == (
        f"{BODY.replace('Ada Lovelace', 'Its holder')} {holder} {ATTRIBUTION}"
    )
    assert "Ada Lovelace" not in json.dumps(claims)
    assert holder in achievement["criteria"]["narrative"]
    assert achievement["criteria"]["narrative"].startswith(
        f"Version 1 of {SCHOOL}'s preparation requirements for the AAPC CPC® examination"
    )


# --- no certificate for an unconfirmed awarding body ---------------------------------------


def test_the_catalogue_confirms_the_body_of_cpc_and_cca_not_of_the_unverified_ones(app):
    by_code = {c.code: c for c in credentials.sync_catalog(credentials.read_catalog())}
    confirmed = {code for code, c in by_code.items() if c.awarding_body_confirmed}
    assert {"CPC", "CPB", "CCA", "CPC+CPB"} <= confirmed
    assert {"CDEI", "CEDC", "CCC", "CPMS"}.isdisjoint(confirmed)
    # a confidence without a source confirms nothing
    assert not Credential(confidence="high", source_url=" ").awarding_body_confirmed


@pytest.fixture
def cdei(app):
    """A CDEI cohort (unverified in the catalogue) whose student Ada has passed TERM-1."""
    factories.course("TERM", modules=2)
    credential = factories.credential("CDEI", modules=["TERM-1"], confirmed=False)
    instructor = factories.user(Role.INSTRUCTOR)
    ada = factories.user(Role.STUDENT, name="Ada Lovelace")
    cohort = factories.cohort(instructor, credential, [ada])
    factories.pass_module(ada, "TERM-1")
    return credential, instructor, ada, cohort


REFUSAL = (
    "The awarding body of CDEI is not confirmed in the catalogue: no readiness certificate is "
    "issued for it."
)


def test_automatic_issue_passes_over_an_unconfirmed_credential(cdei):
    _, _, ada, _ = cdei
    # Ada is ready (she passed the only module) and automatic issue is on: nothing issued
    assert count(Certificate) == count(CertificateEvent) == 0


def _state():
    return count(Certificate), count(CertificateEvent), count(AuditEvent), count(LedgerEntry)


def test_issuing_for_an_unconfirmed_credential_is_409_and_changes_nothing(client, cdei):
    credential, instructor, ada, cohort = cdei
    login(client, instructor.email)
    before = _state()
    for student_id in (str(ada.id), ""):  # one student, then every ready student
        response = post_form(
            client, f"/cohorts/{cohort.id}/certificates/issue", {"student_id": student_id}
        )
        assert response.status_code == 409
        assert REFUSAL in response.get_data(as_text=True).replace("\n", " ")
        assert _state() == before
    with pytest.raises(AwardingBodyUnconfirmed, match=re.escape(REFUSAL)):
        credentials.issue_certificate(ada, credential, instructor, factories.NOW)
    with pytest.raises(AwardingBodyUnconfirmed):
        credentials.issue_to_ready_students(instructor, credential, [ada], factories.NOW)
    db.session.rollback()
    assert _state() == before


def test_certificates_page_explains_instead_of_an_issue_button(client, cdei):
    _, instructor, ada, cohort = cdei
    login(client, instructor.email)
    response = client.get(f"/cohorts/{cohort.id}/certificates")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert REFUSAL in page
    assert "Ready: no certificate (awarding body unconfirmed)" in page
    assert "Issue to all" not in page and f'name="student_id" value="{ada.id}"' not in page
    assert f'action="/cohorts/{cohort.id}/certificates/auto-issue"' not in page


def test_a_ready_student_is_told_no_certificate_comes_for_an_unconfirmed_credential(client, cdei):
    _, _, ada, _ = cdei
    login(client, ada.email)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "You meet every requirement." in page
    assert (
        "No readiness certificate is issued for CDEI: the school's catalogue does not "
        "confirm who awards it yet." in page
    )
    assert "Your certificate is on its way." not in page
