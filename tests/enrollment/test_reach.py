"""Issue 20 item 3: an instructor reaches a student's records only through an active
enrolment the student accepted, and revokes a certificate only in an active cohort aimed at its
credential where its holder is active (or is an admin).

The attack, end to end through the web: instructor B of another school adds student S, who
is in instructor A's cohort, to a cohort of B's own."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.auth import tokens
from lms.auth.models import Role, User
from lms.credentials import service as credentials
from lms.credentials.models import Certificate, CertificateStatus, Evidence
from lms.credentials.rules import EvidenceKind
from lms.db import utcnow
from lms.enrollment import cohorts, enrollments
from lms.enrollment import service as enrollment
from lms.enrollment.access import teaches_student
from lms.enrollment.models import Enrollment, EnrollmentEvent, EnrollmentStatus
from lms.errors import PermissionDenied
from lms.extensions import db
from lms.mail import outbox
from tests import factories
from tests.conftest import count_queries, login, post_form
from tests.enrollment.conftest import audit_actions
from tests.factories import NOW

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
REVOKE = {"public_reason": "issued_in_error", "note": "Taken from another school."}


@dataclass
class Scene:
    credential_id: int
    a_cohort: int  # instructor A's CPC cohort, where S is active
    b_cohort: int  # instructor B's own CPC cohort, S not in it
    student: User  # S
    a: User
    b: User
    admin: User
    evidence_id: int
    certificate_id: int


@pytest.fixture
def scene(app, tmp_path) -> Scene:
    """S, in A's CPC cohort, holds a CPC certificate and uploaded a diploma scan; B teaches a
    CPC cohort of B's own (another school); an admin."""
    app.config["EVIDENCE_FOLDER"] = str(tmp_path / "evidence")
    factories.course("TERM", modules=1)
    credential = factories.credential("CPC", modules=["TERM-1"])
    a = factories.user(Role.INSTRUCTOR, name="Ann Able")
    b = factories.user(Role.INSTRUCTOR, name="Bob Baxter")
    admin = factories.user(Role.ADMIN)
    student = factories.user(Role.STUDENT, name="Sam Stone")
    a_cohort = factories.cohort(a, credential, [student], name="A day class")
    b_cohort = factories.cohort(b, credential, name="B evening class")
    factories.pass_module(student, "TERM-1")  # the certificate is issued automatically
    evidence = credentials.submit_evidence(
        student,
        EvidenceKind.HS_DIPLOMA_OR_GED,
        "Valley High School, 2019",
        NOW,
        upload=credentials.Upload(content=PDF, filename="diploma.pdf"),
        storage=Path(app.config["EVIDENCE_FOLDER"]),
    )
    db.session.commit()
    certificate = db.session.scalar(select(Certificate))
    assert certificate.status is CertificateStatus.ISSUED
    return Scene(
        credential.id,
        a_cohort.id,
        b_cohort.id,
        student,
        a,
        b,
        admin,
        evidence.id,
        certificate.id,
    )


def place_of(cohort_id: int, student_id: int) -> Enrollment:
    db.session.expire_all()
    return db.session.scalar(
        select(Enrollment).where(
            Enrollment.cohort_id == cohort_id, Enrollment.student_id == student_id
        )
    )


def certificate_status(scene: Scene) -> CertificateStatus:
    db.session.expire_all()
    return db.session.get(Certificate, scene.certificate_id).status


def reach(client, scene: Scene, cohort_id: int) -> dict[str, int]:
    """The status of every page of S's records, as the logged-in instructor opens them."""
    s = scene.student.id
    return {
        "record": client.get(f"/cohorts/{cohort_id}/students/{s}").status_code,
        "evidence": client.get(f"/evidence/{scene.evidence_id}/file").status_code,
        "transcript": client.get(f"/transcripts/{s}").status_code,
        "transcript pdf": client.get(f"/transcripts/{s}.pdf").status_code,
        "revoke page": client.get(
            f"/cohorts/{cohort_id}/certificates/{scene.certificate_id}/revoke"
        ).status_code,
    }


NOTHING = {
    "record": 404,
    "evidence": 404,
    "transcript": 404,
    "transcript pdf": 404,
    "revoke page": 404,
}


def as_user(client, user: User) -> None:
    client.get("/logout")
    login(client, user.email)


def test_an_instructor_who_adds_someone_elses_student_reaches_nothing_until_they_accept(
    client, scene
):
    s = scene.student
    login(client, scene.b.email)
    response = post_form(client, f"/cohorts/{scene.b_cohort}/enrollments", {"email": s.email})
    assert response.status_code == 302
    page = client.get(f"/cohorts/{scene.b_cohort}").get_data(as_text=True)
    assert "Sam Stone already has an account: they were asked by email to accept" in page
    assert "awaiting acceptance" in page and "<strong>0 of 0</strong> students ready" in page
    assert place_of(scene.b_cohort, s.id).status is EnrollmentStatus.PENDING
    (notice,) = outbox()
    assert notice.to == s.email and "Bob Baxter invites you to join B evening class" in (
        notice.subject
    )
    assert "http://localhost/dashboard" in notice.body

    # Until S accepts, B reaches none of S's records, nor revokes S's certificate.
    assert reach(client, scene, scene.b_cohort) == NOTHING
    certificates_page = client.get(f"/cohorts/{scene.b_cohort}/certificates")
    assert "Sam Stone" not in certificates_page.get_data(as_text=True)
    revoke = f"/cohorts/{scene.b_cohort}/certificates/{scene.certificate_id}/revoke"
    assert post_form(client, revoke, REVOKE).status_code == 404
    decide = f"/cohorts/{scene.b_cohort}/evidence/{scene.evidence_id}"
    assert post_form(client, decide, {"verify": "Verify"}).status_code == 404
    assert certificate_status(scene) is CertificateStatus.ISSUED
    assert db.session.get(Evidence, scene.evidence_id).status.value == "submitted"

    # S accepts on the dashboard: now B teaches S.
    as_user(client, s)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Bob Baxter invites you to join B evening class" in dashboard
    assert 'value="accept"' in dashboard and 'value="decline"' in dashboard
    place = place_of(scene.b_cohort, s.id)
    response = post_form(client, f"/dashboard/places/{place.id}", {"answer": "accept"})
    assert response.status_code == 302
    assert "You joined B evening class" in client.get("/dashboard").get_data(as_text=True)
    assert place_of(scene.b_cohort, s.id).status is EnrollmentStatus.ACTIVE
    as_user(client, scene.b)
    assert reach(client, scene, scene.b_cohort) == {
        "record": 200,
        "evidence": 200,
        "transcript": 200,
        "transcript pdf": 200,
        "revoke page": 200,
    }

    # B withdraws S: the cohort's page keeps S's enrolment history, and nothing else.
    response = post_form(client, f"/cohorts/{scene.b_cohort}/students/{s.id}/withdraw")
    assert response.status_code == 302
    assert place_of(scene.b_cohort, s.id).status is EnrollmentStatus.WITHDRAWN
    record = client.get(f"/cohorts/{scene.b_cohort}/students/{s.id}")
    assert record.status_code == 200
    page = record.get_data(as_text=True)
    assert "accepted — B evening class, by Sam Stone" in page and "withdrawn" in page
    assert "Requirements" not in page and "Progress of" not in page and "Overrides" not in page
    assert reach(client, scene, scene.b_cohort) == {**NOTHING, "record": 200}
    override = f"/cohorts/{scene.b_cohort}/students/{s.id}/overrides"
    response = post_form(client, override, {"key": "TERM-1", "decision": "met", "reason": "x"})
    assert response.status_code == 404
    assert post_form(client, revoke, REVOKE).status_code == 404
    assert certificate_status(scene) is CertificateStatus.ISSUED

    # Enrolling S again asks again: nothing is reached meanwhile.
    post_form(client, f"/cohorts/{scene.b_cohort}/enrollments", {"email": s.email})
    assert place_of(scene.b_cohort, s.id).status is EnrollmentStatus.PENDING
    assert reach(client, scene, scene.b_cohort) == NOTHING

    # A, whose cohort S is active in, still reaches everything.
    as_user(client, scene.a)
    assert set(reach(client, scene, scene.a_cohort).values()) == {200}
    kinds = db.session.scalars(
        select(EnrollmentEvent.kind)
        .where(EnrollmentEvent.cohort_id == scene.b_cohort)
        .order_by(EnrollmentEvent.id)
    ).all()
    assert [k.value for k in kinds] == ["invited", "accepted", "withdrawn", "invited"]
    actions = audit_actions()
    assert actions.count("enrollment.invited") == 2 and "enrollment.accepted" in actions


def test_declining_leaves_nothing_shared_and_only_the_student_answers(client, scene):
    s = scene.student
    login(client, scene.b.email)
    post_form(client, f"/cohorts/{scene.b_cohort}/enrollments", {"email": s.email})
    place = place_of(scene.b_cohort, s.id)
    url = f"/dashboard/places/{place.id}"
    # B cannot answer for S (a student's page), nor can another student.
    assert post_form(client, url, {"answer": "accept"}).status_code == 403
    other = factories.user(Role.STUDENT)
    as_user(client, other)
    assert post_form(client, url, {"answer": "accept"}).status_code == 404
    assert place_of(scene.b_cohort, s.id).status is EnrollmentStatus.PENDING

    as_user(client, s)
    response = post_form(client, url, {"answer": "decline"})
    assert response.status_code == 302
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "You declined to join B evening class" in dashboard
    assert "invites you to join" not in dashboard
    assert place_of(scene.b_cohort, s.id).status is EnrollmentStatus.DECLINED
    assert "enrollment.declined" in audit_actions()
    # answered once: a second answer finds nothing waiting
    assert post_form(client, url, {"answer": "accept"}).status_code == 404
    assert place_of(scene.b_cohort, s.id).status is EnrollmentStatus.DECLINED

    as_user(client, scene.b)
    assert reach(client, scene, scene.b_cohort) == NOTHING
    page = client.get(f"/cohorts/{scene.b_cohort}").get_data(as_text=True)
    assert "Sam Stone" not in page


def test_an_answer_that_is_neither_is_refused_and_a_join_code_is_the_students_own_yes(
    client, scene
):
    s = scene.student
    login(client, scene.b.email)
    post_form(client, f"/cohorts/{scene.b_cohort}/enrollments", {"email": s.email})
    place = place_of(scene.b_cohort, s.id)
    as_user(client, s)
    response = post_form(client, f"/dashboard/places/{place.id}", {"answer": "maybe"})
    assert response.status_code == 400
    assert "Press Accept or Decline." in response.get_data(as_text=True)
    assert place_of(scene.b_cohort, s.id).status is EnrollmentStatus.PENDING

    b_cohort = enrollment.get_cohort_for(scene.b, scene.b_cohort)
    cohorts.set_join(scene.b, b_cohort, enabled=True, now=NOW)
    db.session.commit()
    code = db.session.get(type(b_cohort), scene.b_cohort).join_code
    assert post_form(client, f"/join/{code}").status_code == 302
    assert place_of(scene.b_cohort, s.id).status is EnrollmentStatus.ACTIVE


def test_an_admin_enrols_an_existing_account_at_once_and_a_new_person_joins_by_invitation(
    client, scene
):
    s = scene.student
    login(client, scene.admin.email)
    post_form(client, f"/cohorts/{scene.b_cohort}/enrollments", {"email": s.email})
    assert place_of(scene.b_cohort, s.id).status is EnrollmentStatus.ACTIVE
    assert outbox() == []  # nothing to accept
    as_user(client, scene.b)
    post_form(
        client,
        f"/cohorts/{scene.b_cohort}/enrollments",
        {"email": "new@example.org", "full_name": "New Person"},
    )
    new = db.session.scalar(select(User).where(User.email == "new@example.org"))
    # invited by email to this very cohort: setting the password is their acceptance
    assert place_of(scene.b_cohort, new.id).status is EnrollmentStatus.ACTIVE


def test_only_active_enrolments_count_as_teaching(app, scene):
    s, b = scene.student, scene.b
    b_cohort = enrollment.get_cohort_for(b, scene.b_cohort)
    enrollment.enroll_by_email(b, b_cohort, s.email, NOW)
    assert not teaches_student(b, s.id)  # pending
    place = place_of(scene.b_cohort, s.id)
    place.status = EnrollmentStatus.DECLINED
    assert not teaches_student(b, s.id)
    place.status = EnrollmentStatus.WITHDRAWN
    assert not teaches_student(b, s.id)
    place.status = EnrollmentStatus.ACTIVE
    assert teaches_student(b, s.id)
    assert teaches_student(scene.admin, s.id)
    db.session.rollback()


def test_revoking_needs_an_active_cohort_aimed_at_the_credential_where_the_holder_is_active(
    client, scene
):
    s = scene.student
    other = factories.credential("CCA", modules=["TERM-1"])
    cca = factories.cohort(scene.b, other, name="B CCA class")
    # S accepted places in B's CCA cohort and in B's CPC cohort, which B then archives.
    for cohort_id in (cca.id, scene.b_cohort):
        loaded = enrollment.get_cohort_for(scene.b, cohort_id)
        enrollment.enroll_by_email(scene.b, loaded, s.email, NOW)
        enrollments.answer_place(s, place_of(cohort_id, s.id).id, accept=True, now=NOW)
    cohorts.set_archived(scene.b, enrollment.get_cohort_for(scene.b, scene.b_cohort), True, NOW)
    db.session.commit()
    login(client, scene.b.email)

    # A cohort aimed at another credential: the certificate is not this cohort's.
    url = f"/cohorts/{cca.id}/certificates/{scene.certificate_id}/revoke"
    assert client.get(url).status_code == 404
    assert post_form(client, url, REVOKE).status_code == 404
    # An archived cohort aimed at the credential: refused, and no link offers it.
    url = f"/cohorts/{scene.b_cohort}/certificates/{scene.certificate_id}/revoke"
    listing = client.get(f"/cohorts/{scene.b_cohort}/certificates").get_data(as_text=True)
    assert "Sam Stone" in listing and url not in listing
    assert client.get(url).status_code == 403
    response = post_form(client, url, REVOKE)
    assert response.status_code == 403 and "is archived" in response.get_data(as_text=True)
    assert certificate_status(scene) is CertificateStatus.ISSUED
    # The API lets only admins in (an instructor cannot even make a token), and its revoke
    # calls the same rule as the web; the services refuse by themselves too.
    with pytest.raises(PermissionDenied):
        tokens.create_token(
            scene.b, name="mine", scope=tokens.TokenScope.WRITE, days=30, now=utcnow()
        )
    certificate = db.session.get(Certificate, scene.certificate_id)
    with pytest.raises(PermissionDenied):
        enrollment.revoke_certificate(scene.b, certificate, "other", "x", NOW)
    with pytest.raises(PermissionDenied):
        credentials.revoke_certificate(scene.b, certificate, "other", "x", NOW)
    db.session.rollback()
    assert certificate_status(scene) is CertificateStatus.ISSUED

    # Once the CPC cohort is active again, B may.
    cohorts.set_archived(scene.b, enrollment.get_cohort_for(scene.b, scene.b_cohort), False, NOW)
    db.session.commit()
    assert url in client.get(f"/cohorts/{scene.b_cohort}/certificates").get_data(as_text=True)
    response = post_form(client, url, REVOKE)
    assert response.status_code == 302
    assert certificate_status(scene) is CertificateStatus.REVOKED


def test_an_admin_revokes_any_certificate_on_the_web_and_through_the_api(client, scene):
    second = factories.user(Role.STUDENT, name="Tess Two")
    factories.cohort(scene.a, _cpc(scene), [second])
    factories.pass_module(second, "TERM-1")
    login(client, scene.admin.email)
    url = f"/cohorts/{scene.a_cohort}/certificates/{scene.certificate_id}/revoke"
    assert post_form(client, url, REVOKE).status_code == 302
    assert certificate_status(scene) is CertificateStatus.REVOKED

    (theirs,) = credentials.certificates_of([second.id])
    _, secret = tokens.create_token(
        scene.admin, name="SIS", scope=tokens.TokenScope.WRITE, days=30, now=utcnow()
    )
    db.session.commit()
    response = client.post(
        f"/api/v1/certificates/{theirs.code}/revoke",
        json=REVOKE,
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "revoked"


def _cpc(scene: Scene):
    return enrollment.get_cohort_for(scene.a, scene.a_cohort).credential


def test_students_awaiting_acceptance_count_nowhere_and_cost_no_query(client, scene):
    for n in range(3):
        student = factories.user(Role.STUDENT, name=f"Active {n}")
        loaded = enrollment.get_cohort_for(scene.b, scene.b_cohort)
        enrollment.enroll_student(scene.b, loaded, student, NOW)
    db.session.commit()
    login(client, scene.b.email)
    url = f"/cohorts/{scene.b_cohort}"
    client.get(url)
    with count_queries() as queries:
        before = client.get(url).get_data(as_text=True)
    without = len(queries)
    assert "<strong>0 of 3</strong> students ready" in before

    for n in range(5):
        asked = factories.user(Role.STUDENT, name=f"Asked {n}")
        loaded = enrollment.get_cohort_for(scene.b, scene.b_cohort)
        enrollment.enroll_by_email(scene.b, loaded, asked.email, NOW)
    # one of them is ready: still not counted
    ready = db.session.scalar(select(User).where(User.full_name == "Asked 0"))
    factories.pass_module(ready, "TERM-1")
    db.session.commit()
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Enrollment)
            .where(Enrollment.status == EnrollmentStatus.PENDING)
        )
        == 5
    )
    with count_queries() as queries:
        after = client.get(url).get_data(as_text=True)
    assert len(queries) == without
    # the matrix, the counts and the at-risk figure are the three active students'
    assert "<strong>0 of 3</strong> students ready" in after
    assert after.count('<th scope="row">') == 3
    assert "Students 1–3 of 3" in after
    assert after.count("awaiting acceptance") == 5
    assert "Asked 0" in after and "at risk" in after
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1  # S's only
