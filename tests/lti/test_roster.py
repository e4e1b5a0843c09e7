"""Names and role provisioning: an instructor syncs the LMS course roster into a cohort."""

import pytest
import responses
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.enrollment import service as enrollment
from lms.enrollment.models import Enrollment, EnrollmentStatus
from lms.extensions import db
from lms.ledger.models import AuditEvent
from lms.lti.models import LtiContext, LtiIdentity
from tests import factories
from tests.conftest import login, post_form
from tests.lti.conftest import INSTRUCTOR, LEARNER, MEMBERSHIPS_URL, launch, row_counts


def member(sub, name, email, roles=(LEARNER,), status="Active"):
    return {"user_id": sub, "name": name, "email": email, "roles": list(roles), "status": status}


@pytest.fixture
def course_page(client, platform):
    """An instructor launched from the LMS course and owns a cohort; returns the course id."""
    factories.course("TERM", modules=1)
    credential = factories.credential("CPC", modules=["TERM-1"])
    launch(client, platform, roles=[INSTRUCTOR], sub="teacher-1", email="dana@school.edu")
    instructor = db.session.scalar(select(User).where(User.email == "dana@school.edu"))
    cohort = factories.cohort(instructor, credential, name="CPC day class")
    context = db.session.scalar(select(LtiContext))
    return context.id, cohort, instructor


def serve_roster(platform, members, page_two=None):
    platform.serve_token()
    headers = {}
    if page_two is not None:
        headers["Link"] = f'<{MEMBERSHIPS_URL}?page=2>; rel="next"'
        platform.mock.add(responses.GET, MEMBERSHIPS_URL + "?page=2", json={"members": page_two})
    platform.mock.add(
        responses.GET,
        MEMBERSHIPS_URL,
        json={"id": MEMBERSHIPS_URL, "members": members},
        headers=headers,
        match=[responses.matchers.query_param_matcher({})],
    )


def enrolments(cohort):
    rows = db.session.execute(
        select(User.email, Enrollment.status)
        .join(Enrollment, Enrollment.student_id == User.id)
        .where(Enrollment.cohort_id == cohort.id)
        .order_by(User.email)
    ).all()
    return {email: status for email, status in rows}


def test_instructor_links_a_cohort_and_syncs_the_roster(client, platform, course_page):
    context_id, cohort, instructor = course_page
    existing = factories.user(Role.STUDENT, email="sam@school.edu", name="Sam Rivera")
    by_hand = factories.user(Role.STUDENT, email="walkin@school.edu")
    factories.user(Role.INSTRUCTOR, email="ira@school.edu", name="Ira Staff")
    loaded = enrollment.get_cohort_for(instructor, cohort.id)
    enrollment.enroll_student(instructor, loaded, by_hand, factories.NOW)  # not via LMS
    db.session.commit()

    page = client.get("/lti/courses").get_data(as_text=True)
    assert "Coding 101 (Fall)" in page and "Never" in page
    page = client.get(f"/lti/courses/{context_id}").get_data(as_text=True)
    assert "CPC day class (CPC)" in page and "Sync roster now" in page
    response = post_form(client, f"/lti/courses/{context_id}/cohort", {"cohort_id": cohort.id})
    assert response.status_code == 302
    assert db.session.get(LtiContext, context_id).cohort_id == cohort.id

    serve_roster(
        platform,
        [
            member("teacher-1", "Dana Whitfield", "dana@school.edu", roles=(INSTRUCTOR,)),
            member("s-1", "Sam Rivera", "SAM@school.edu"),
            member("s-2", "Ana Ruiz", "ana@school.edu"),
            member("s-3", "Gone Before", "gone@school.edu", status="Inactive"),
        ],
        page_two=[
            member("s-4", "Kim Lee", "kim@school.edu"),
            member("s-5", "No Mail", None),
            member("s-6", "Ira Staff", "ira@school.edu"),
        ],
    )
    response = post_form(client, f"/lti/courses/{context_id}/sync")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Roster synced: 3 added, 0 withdrawn, 0 unchanged, 2 skipped." in page
    assert "Skipped No Mail: the LMS did not share an email address." in page
    assert "Skipped Ira Staff: their account here is not a student&#39;s." in page
    assert db.session.scalar(select(LtiIdentity).where(LtiIdentity.subject == "s-6")) is None
    # Sam's account existed: the roster enrols him but never links it to a platform user by
    # email (his own launch asks him to confirm); the accounts it created are linked.
    assert db.session.scalar(select(LtiIdentity).where(LtiIdentity.subject == "s-1")) is None
    assert db.session.scalar(select(LtiIdentity).where(LtiIdentity.subject == "s-2")) is not None
    assert enrolments(cohort) == {
        "ana@school.edu": EnrollmentStatus.ACTIVE,
        "kim@school.edu": EnrollmentStatus.ACTIVE,
        "sam@school.edu": EnrollmentStatus.ACTIVE,
        "walkin@school.edu": EnrollmentStatus.ACTIVE,
    }
    ana = db.session.scalar(select(User).where(User.email == "ana@school.edu"))
    assert (ana.role, ana.full_name, ana.password_hash) == (Role.STUDENT, "Ana Ruiz", None)
    assert db.session.scalar(select(User).where(User.email == "gone@school.edu")) is None
    assert db.session.get(User, existing.id).full_name == "Sam Rivera"

    # Kim leaves the LMS course, Sam becomes inactive: both are withdrawn, rows kept;
    # the student enrolled by hand stays.
    platform.mock.reset()
    serve_roster(
        platform,
        [
            member("s-1", "Sam Rivera", "sam@school.edu", status="Inactive"),
            member("s-2", "Ana Ruiz", "ana@school.edu"),
        ],
    )
    response = post_form(client, f"/lti/courses/{context_id}/sync")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Roster synced: 0 added, 2 withdrawn, 1 unchanged, 0 skipped." in page
    assert enrolments(cohort) == {
        "ana@school.edu": EnrollmentStatus.ACTIVE,
        "kim@school.edu": EnrollmentStatus.WITHDRAWN,
        "sam@school.edu": EnrollmentStatus.WITHDRAWN,
        "walkin@school.edu": EnrollmentStatus.ACTIVE,
    }
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("enrollment.withdrawn") == 2
    assert actions.count("lti.roster_synced") == 2 and "lti.context_linked" in actions

    # Kim comes back: enrolled again, the same row.
    platform.mock.reset()
    serve_roster(platform, [member("s-4", "Kim Lee", "kim@school.edu")])
    post_form(client, f"/lti/courses/{context_id}/sync")
    assert enrolments(cohort)["kim@school.edu"] is EnrollmentStatus.ACTIVE


def test_sync_needs_a_linked_cohort_and_a_reachable_roster(client, platform, course_page):
    context_id, cohort, _ = course_page
    before = row_counts()
    response = post_form(client, f"/lti/courses/{context_id}/sync")
    assert response.status_code == 400
    assert "Choose the cohort this LMS course feeds" in response.get_data(as_text=True)
    post_form(client, f"/lti/courses/{context_id}/cohort", {"cohort_id": cohort.id})
    platform.serve_token()
    platform.mock.add(responses.GET, MEMBERSHIPS_URL, status=403)
    before = row_counts()
    response = post_form(client, f"/lti/courses/{context_id}/sync")
    assert response.status_code == 400
    assert "The roster could not be read from District Canvas" in response.get_data(as_text=True)
    assert row_counts() == before


def test_other_instructors_and_students_cannot_reach_the_course(app, platform, course_page):
    context_id, cohort, _ = course_page
    other = app.test_client()
    stranger = factories.user(Role.INSTRUCTOR)
    login(other, stranger.email)
    assert other.get(f"/lti/courses/{context_id}").status_code == 404
    assert post_form(other, f"/lti/courses/{context_id}/sync").status_code == 404
    assert "No LMS course yet" in other.get("/lti/courses").get_data(as_text=True)
    student = app.test_client()
    login(student, factories.user(Role.STUDENT).email)
    assert student.get("/lti/courses").status_code == 403


def test_a_cohort_of_another_instructor_cannot_be_linked(app, client, platform, course_page):
    context_id, _, _ = course_page
    credential = factories.credential("CCA", modules=["TERM-1"])
    foreign = factories.cohort(factories.user(Role.INSTRUCTOR), credential, name="Not mine")
    response = post_form(client, f"/lti/courses/{context_id}/cohort", {"cohort_id": foreign.id})
    assert response.status_code == 400
    assert db.session.get(LtiContext, context_id).cohort_id is None
