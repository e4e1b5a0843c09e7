"""Notices by email: evidence decided, certificate issued or revoked; each person chooses
which they get (security mail always comes), and a signed link in each turns it off."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lms.auth.models import Role
from lms.credentials import service as credentials
from lms.credentials.models import Certificate
from lms.credentials.rules import EvidenceKind
from lms.extensions import db
from lms.mail import outbox
from lms.mail.models import MailOptOut, OutgoingMail
from tests import factories
from tests.conftest import login, post_form

UNSUBSCRIBE = re.compile(r"http://localhost(/mail/unsubscribe/[\w.-]+)")


@pytest.fixture
def cca(app):
    """A CCA cohort needing a verified diploma and TERM-1, with one student."""
    factories.course("TERM", modules=2)
    tree = {
        "type": "all_of",
        "children": [
            {"type": "evidence", "kind": "hs_diploma_or_ged"},
            {"type": "module_completed", "module": "TERM-1"},
        ],
    }
    credential = factories.credential("CCA", tree=tree)
    instructor = factories.user(Role.INSTRUCTOR)
    student = factories.user(Role.STUDENT, name="Casey Coder")
    cohort = factories.cohort(instructor, credential, [student])
    evidence = credentials.submit_evidence(
        student, EvidenceKind.HS_DIPLOMA_OR_GED, "GED 2020", factories.NOW
    )
    db.session.commit()
    return instructor, student, cohort, evidence


def decide(client, cohort, evidence, data):
    return post_form(client, f"/cohorts/{cohort.id}/evidence/{evidence.id}", data)


def test_a_rejection_mails_the_student_the_reviewer_s_reason(client, cca):
    instructor, student, cohort, evidence = cca
    login(client, instructor.email)
    response = decide(client, cohort, evidence, {"reject": "Reject", "reason": "Unreadable."})
    assert response.status_code == 302
    (message,) = outbox()
    assert message.to == student.email
    assert message.subject == "Your evidence was not accepted"
    assert "Hello Casey Coder" in message.body
    assert "high school diploma or GED" in message.body and "Unreadable." in message.body
    assert "http://localhost/evidence" in message.body
    assert UNSUBSCRIBE.search(message.body)
    assert message.unsubscribe_url == UNSUBSCRIBE.search(message.body).group(0)


def test_verified_evidence_that_makes_the_student_ready_mails_both_news(client, cca):
    instructor, student, cohort, evidence = cca
    factories.pass_module(student, "TERM-1")
    db.session.commit()
    login(client, instructor.email)
    assert decide(client, cohort, evidence, {"verify": "Verify"}).status_code == 302
    subjects = sorted(message.subject for message in outbox())
    assert subjects == ["Your CCA readiness certificate", "Your evidence was verified"]
    certificate = db.session.scalar(select(Certificate))
    (issued,) = [m for m in outbox() if m.subject == "Your CCA readiness certificate"]
    assert f"http://localhost/verify/{certificate.code}" in issued.body
    assert "readiness certificate for the AAPC CCA® examination (it is not the CCA" in issued.body


def test_a_revocation_mails_the_public_reason_not_the_private_note(client, cca):
    instructor, student, cohort, evidence = cca
    factories.pass_module(student, "TERM-1")
    evidence = credentials.get_evidence(evidence.id)
    credentials.decide_evidence(instructor, evidence, verified=True, reason="", now=factories.NOW)
    db.session.commit()
    certificate = db.session.scalar(select(Certificate))
    login(client, instructor.email)
    response = post_form(
        client,
        f"/cohorts/{cohort.id}/certificates/{certificate.id}/revoke",
        {"public_reason": "issued_in_error", "note": "Mixed up two students."},
    )
    assert response.status_code == 302
    (message,) = outbox()  # the issue's own mail was queued outside a request: not sent here
    assert message.subject == "Your CCA readiness certificate was revoked"
    assert "issued in error" in message.body
    assert "Mixed up" not in message.body
    kinds = db.session.scalars(select(OutgoingMail.kind).order_by(OutgoingMail.id)).all()
    assert kinds == ["certificate", "evidence_decided", "certificate"]  # issued on the verdict


def test_a_person_who_turned_a_notice_off_gets_none_but_still_gets_security_mail(client, cca):
    instructor, student, cohort, evidence = cca
    login(client, student.email)
    page = client.get("/account/notifications").get_data(as_text=True)
    assert page.count('type="checkbox"') == 3 and page.count("checked") == 3
    assert "students of your cohorts" not in page  # an instructor's digest
    response = post_form(
        client, "/account/notifications", {"wanted": ["certificate", "study_digest"]}
    )
    assert response.status_code == 302
    page = client.get("/account/notifications").get_data(as_text=True)
    assert page.count("checked") == 2
    assert db.session.scalars(select(MailOptOut.kind)).all() == ["evidence_decided"]

    client.get("/logout")
    login(client, instructor.email)
    decide(client, cohort, evidence, {"reject": "Reject", "reason": "Unreadable."})
    assert outbox() == []
    assert db.session.scalar(select(OutgoingMail)) is None  # not even queued

    client.get("/logout")
    assert post_form(client, "/password/forgot", {"email": student.email}).status_code == 302
    (message,) = outbox()
    assert message.subject == "Reset your password"


def test_the_unsubscribe_link_asks_then_turns_off_that_one_kind(app, client, cca):
    instructor, student, cohort, evidence = cca
    login(client, instructor.email)
    decide(client, cohort, evidence, {"reject": "Reject", "reason": "Unreadable."})
    link = UNSUBSCRIBE.search(outbox()[0].body).group(1)
    client.get("/logout")

    anyone = app.test_client()
    page = anyone.get(link)  # a mail scanner opening the link changes nothing
    assert page.status_code == 200
    assert "when your evidence is verified or rejected" in page.get_data(as_text=True)
    assert db.session.scalar(select(MailOptOut)) is None

    response = post_form(anyone, link)
    assert response.status_code == 200
    assert "we no longer email you" in response.get_data(as_text=True)
    opt_out = db.session.scalar(select(MailOptOut))
    assert (opt_out.user_id, opt_out.kind) == (student.id, "evidence_decided")
    assert post_form(anyone, link).status_code == 200  # twice is harmless

    assert anyone.post(link).status_code == 400  # no CSRF token: nothing more written
    forged = link[:-3] + ("abc" if not link.endswith("abc") else "xyz")
    assert anyone.get(forged).status_code == 404
    assert db.session.scalars(select(MailOptOut.kind)).all() == ["evidence_decided"]
