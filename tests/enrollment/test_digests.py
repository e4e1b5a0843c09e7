"""The weekly digests: a student's modules due, an instructor's students at risk, certificates
about to expire; once a week, and never to someone who turned them off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from lms.auth.models import Role
from lms.credentials.models import Certificate
from lms.enrollment import cli as enrollment_cli
from lms.enrollment import digests
from lms.enrollment.models import Enrollment
from lms.extensions import db
from lms.mail import notices, outbox
from lms.mail.models import OutgoingMail
from tests import factories
from tests.factories import NOW


def mail_to(email: str) -> list[OutgoingMail]:
    return list(
        db.session.scalars(
            select(OutgoingMail).where(OutgoingMail.recipient == email).order_by(OutgoingMail.id)
        )
    )


def count_mail() -> int:
    return db.session.scalar(select(func.count()).select_from(OutgoingMail))


def joined_at_start(cohort) -> None:
    """Its students joined on the cohort's first day (a late joiner's plan starts later)."""
    start = datetime.combine(cohort.start_date, datetime.min.time(), UTC)
    for enrollment in db.session.scalars(
        select(Enrollment).where(Enrollment.cohort_id == cohort.id)
    ):
        enrollment.enrolled_at = start
    db.session.commit()


def test_the_weekly_digests_reach_students_and_instructors_once_a_week(app):
    factories.course("TERM", modules=2)
    credential = factories.credential("CPC", modules=["TERM-1", "TERM-2"])
    instructor = factories.user(Role.INSTRUCTOR)
    sam = factories.user(Role.STUDENT, name="Sam Student")
    quiet = factories.user(Role.STUDENT, name="Quiet Student")
    cohort = factories.cohort(instructor, credential, [sam, quiet], name="CPC evening")
    joined_at_start(cohort)
    notices.set_wanted(quiet.id, "student", ["evidence_decided", "certificate"], NOW)
    db.session.commit()

    monday = NOW + timedelta(days=21)  # three weeks without activity: both at risk
    counts = digests.send_weekly_digests(monday)
    db.session.commit()
    assert (counts.study, counts.at_risk, counts.expiring) == (1, 1, 0)

    (study,) = mail_to(sam.email)
    assert study.kind == "study_digest" and study.subject == "Your study plan this week"
    assert "Hello Sam Student" in study.text_body
    first, second = factories.module("TERM-1"), factories.module("TERM-2")
    assert f"- {first.title} (CPC evening): overdue since " in study.text_body
    assert second.title not in study.text_body  # due in January
    assert "/dashboard\n" in study.text_body
    assert study.unsubscribe_url and study.unsubscribe_url in study.text_body
    assert mail_to(quiet.email) == []  # turned the study digest off

    (risk,) = mail_to(instructor.email)
    assert risk.kind == "at_risk_digest" and risk.subject == "Students at risk this week"
    assert "CPC evening (2 at risk): http://" in risk.text_body
    assert f"/cohorts/{cohort.id}?show=at_risk\n" in risk.text_body
    for name in ("Quiet Student", "Sam Student"):
        assert (
            f"- {name}: Behind the study plan: 1 module overdue (TERM-1); "
            "No activity since enrolment (83 days)\n"
        ) in risk.text_body

    before = count_mail()
    digests.send_weekly_digests(monday + timedelta(days=2))  # run again the same week
    db.session.commit()
    assert count_mail() == before
    digests.send_weekly_digests(monday + timedelta(days=7))  # the next week
    db.session.commit()
    assert count_mail() == before + 2


def test_a_certificate_about_to_expire_is_noticed_once(app):
    factories.course("TERM", modules=1)
    credential = factories.credential("CPC", modules=["TERM-1"])
    credential.validity_months = 12
    db.session.commit()
    instructor = factories.user(Role.INSTRUCTOR)
    ada = factories.user(Role.STUDENT, name="Ada Lovelace")
    factories.cohort(instructor, credential, [ada])
    factories.pass_module(ada, "TERM-1")  # issued automatically, for a year
    db.session.commit()
    certificate = db.session.scalar(select(Certificate))
    assert certificate.expires_at is not None

    assert digests.send_weekly_digests(certificate.expires_at - timedelta(days=45)).expiring == 0
    assert digests.send_weekly_digests(certificate.expires_at - timedelta(days=20)).expiring == 1
    assert digests.send_weekly_digests(certificate.expires_at - timedelta(days=13)).expiring == 0
    db.session.commit()
    (notice,) = [m for m in mail_to(ada.email) if m.subject.endswith("expires soon")]
    assert f"expires on {certificate.expires_at:%d %b %Y}" in notice.text_body
    assert f"/verify/{certificate.code}\n" in notice.text_body


def test_send_digests_queues_and_sends_them(app, runner, monkeypatch):
    factories.course("TERM", modules=2)
    credential = factories.credential("CPC", modules=["TERM-1", "TERM-2"])
    instructor = factories.user(Role.INSTRUCTOR)
    sam = factories.user(Role.STUDENT)
    joined_at_start(factories.cohort(instructor, credential, [sam]))
    monkeypatch.setattr(enrollment_cli, "utcnow", lambda: NOW + timedelta(days=21))
    result = runner.invoke(args=["send-digests"])
    assert result.exit_code == 0, result.output
    assert "Queued 1 study-plan digests, 1 at-risk digests and 0 expiry notices." in result.output
    assert sorted(message.to for message in outbox()) == sorted([sam.email, instructor.email])
    assert db.session.scalar(select(func.count()).where(OutgoingMail.sent_at.is_(None))) == 0
