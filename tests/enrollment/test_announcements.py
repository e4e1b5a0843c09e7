"""Announcements and in-app notices (issue 19 item 13): an instructor posts to a cohort;
each active student sees it on the dashboard, gets a notice (the header's count) and an
email; evidence decisions and certificates also arrive as notices."""

from sqlalchemy import func, select

from lms.auth.models import Notice, Role, User
from lms.credentials import service as credentials
from lms.credentials.rules import EvidenceKind
from lms.enrollment import enrollments
from lms.enrollment.models import Announcement
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import login, post_form


def outbox(app):
    return app.extensions.setdefault("mail_outbox", [])


def _school():
    factories.course("TERM", modules=2)
    credential = factories.credential("CPC", modules=["TERM-1", "TERM-2"])
    instructor = factories.user(Role.INSTRUCTOR)
    stays, leaves = factories.user(Role.STUDENT), factories.user(Role.STUDENT)
    cohort = factories.cohort(instructor, credential, [stays, leaves], name="CPC evenings")
    enrollments.withdraw(instructor, cohort, leaves.id, "Moved away", factories.NOW)
    db.session.commit()
    return instructor, cohort, stays, leaves


def test_an_announcement_reaches_every_active_student_on_the_dashboard_as_a_notice_and_by_mail(
    app, client
):
    instructor, cohort, stays, leaves = _school()
    outbox(app).clear()
    login(client, instructor.email)
    response = post_form(
        client,
        f"/cohorts/{cohort.id}/announcements",
        {"title": "Mock exam on Saturday", "body": "Room 4, 9 am.\nBring your code books."},
    )
    assert response.status_code == 302
    posted = db.session.scalar(select(Announcement))
    assert (posted.cohort_id, posted.author_id, posted.title) == (
        cohort.id, instructor.id, "Mock exam on Saturday"
    )  # fmt: skip
    assert [m.to for m in outbox(app)] == [stays.email]  # not the withdrawn student
    assert "Bring your code books." in outbox(app)[0].body
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "announcement.posted"))
    assert event.details["sent_to"] == 1

    login(client, stays.email)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Mock exam on Saturday" in dashboard and "Bring your code books." in dashboard
    assert 'aria-label="Notices, 1 unread">Notices <span class="badge">1</span>' in dashboard
    notices_page = client.get("/notices").get_data(as_text=True)
    assert "CPC evenings: Mock exam on Saturday" in notices_page
    assert post_form(client, "/notices/read", {}).status_code == 302
    assert db.session.get(User, stays.id).unread_notices == 0
    assert db.session.scalar(select(func.count()).select_from(Notice).where(
        Notice.user_id == stays.id, Notice.read_at.is_(None)
    )) == 0  # fmt: skip
    assert 'class="badge"' not in client.get("/dashboard").get_data(as_text=True)

    login(client, leaves.email)
    assert "Mock exam on Saturday" not in client.get("/dashboard").get_data(as_text=True)
    assert db.session.get(User, leaves.id).unread_notices == 0


def test_an_empty_announcement_is_refused_beside_its_fields_and_nothing_is_sent(app, client):
    instructor, cohort, stays, _ = _school()
    outbox(app).clear()
    login(client, instructor.email)
    response = post_form(client, f"/cohorts/{cohort.id}/announcements", {"title": " ", "body": ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="title-error">Give the announcement a title.' in page
    assert 'id="body-error">Write what you want to tell the cohort.' in page
    assert db.session.scalar(select(func.count()).select_from(Announcement)) == 0
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 0
    assert outbox(app) == []


def test_another_instructor_cannot_post_to_a_cohort_they_do_not_teach(client):
    _, cohort, _, _ = _school()
    login(client, factories.user(Role.INSTRUCTOR).email)
    response = post_form(
        client, f"/cohorts/{cohort.id}/announcements", {"title": "Hi", "body": "x"}
    )
    assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Announcement)) == 0


def test_a_rejected_evidence_and_an_issued_certificate_arrive_as_notices(client):
    instructor, cohort, student, _ = _school()
    evidence = credentials.submit_evidence(
        student, EvidenceKind.HS_DIPLOMA_OR_GED, "Valley High, 2019", factories.NOW
    )
    db.session.commit()
    login(client, instructor.email)
    post_form(
        client,
        f"/cohorts/{cohort.id}/evidence/{evidence.id}",
        {"reject": "Reject", "reason": "The scan is unreadable."},
    )
    texts = db.session.scalars(select(Notice.text).where(Notice.user_id == student.id)).all()
    assert texts == [
        "Your evidence (high school diploma or GED) was not accepted: The scan is unreadable."
    ]
    assert db.session.get(User, student.id).unread_notices == 1


def test_a_certificate_issued_when_the_student_becomes_ready_arrives_as_a_notice(app):
    _, _, student, _ = _school()
    factories.pass_module(student, "TERM-1")
    factories.pass_module(student, "TERM-2")  # ready: the cohort issues automatically
    texts = db.session.scalars(select(Notice.text).where(Notice.user_id == student.id)).all()
    assert len(texts) == 1 and texts[0].startswith("Your CPC readiness certificate is issued")
    assert db.session.get(User, student.id).unread_notices == 1
