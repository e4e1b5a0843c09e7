"""A cohort whose credential has no requirements yet (14 of the catalogue's 17 start so): every
page and list still renders and says so, and no new cohort can aim at such a credential."""

from datetime import date

import pytest
from sqlalchemy import func, select

from lms.auth.models import Role
from lms.credentials import service as credentials
from lms.enrollment import cohorts
from lms.enrollment import service as enrollment
from lms.enrollment.models import Cohort, Enrollment
from lms.errors import InvalidInput
from lms.extensions import db
from tests import factories
from tests.conftest import login, post_form
from tests.factories import NOW

NOTICE = "has no requirements yet"


@pytest.fixture
def bare(app):
    """A CPB credential without requirements, and a cohort aimed at it with one student: what
    an older version let an instructor create."""
    (cpb,) = credentials.sync_catalog(
        [{"code": "CPB", "name": "Certified Professional Biller", "issuing_body": "AAPC"}]
    )
    factories.course("TERM", modules=1)
    cpc = factories.credential("CPC", modules=["TERM-1"])
    instructor = factories.user(Role.INSTRUCTOR)
    admin = factories.user(Role.ADMIN)
    student = factories.user(Role.STUDENT)
    cohort = factories.cohort(instructor, cpc, [student], name="Billing evenings")
    cohort.credential = cpb  # as if created before the refusal existed
    db.session.commit()
    return cpb, cpc, cohort, instructor, admin, student


def test_every_page_of_the_cohort_renders_and_says_why(client, bare):
    cpb, _, cohort, instructor, admin, student = bare
    cohort_id, student_id = cohort.id, student.id
    login(client, instructor.email)
    for path in (
        "/cohorts",
        f"/cohorts/{cohort_id}",
        f"/cohorts/{cohort_id}?show=ready&sort=progress",
        f"/cohorts/{cohort_id}/edit",
        f"/cohorts/{cohort_id}/plan",
        f"/cohorts/{cohort_id}/roster",
        f"/cohorts/{cohort_id}/certificates",
        f"/cohorts/{cohort_id}/students/{student_id}",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert "Billing evenings" in page, path
        if "/edit" not in path and "/roster" not in path:  # forms, not judgements
            assert f"CPB {NOTICE}" in page, path
    chart = client.get(f"/cohorts/{cohort_id}/progress.svg")
    assert chart.status_code == 200
    assert chart.mimetype == "image/svg+xml"

    post_form(client, "/logout")
    login(client, admin.email)
    response = client.get("/cohorts")
    assert response.status_code == 200
    assert "Billing evenings" in response.get_data(as_text=True)

    post_form(client, "/logout")
    login(client, student.email)
    response = client.get("/dashboard")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Billing evenings" in page and f"CPB {NOTICE}" in page


def test_a_new_cohort_cannot_aim_at_a_credential_without_requirements(client, bare):
    cpb, cpc, _, instructor, _, _ = bare
    login(client, instructor.email)
    form = client.get("/cohorts/new").get_data(as_text=True)
    assert "CPB: Certified Professional Biller (no requirements yet)" in form
    before = db.session.scalar(select(func.count()).select_from(Cohort))

    response = post_form(
        client,
        "/cohorts/new",
        {"name": "CPB day class", "credential_id": cpb.id, "start_date": "2026-09-01"},
    )

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "CPB has no requirements yet" in page and 'id="credential_id-error"' in page
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Cohort)) == before


def test_a_cohort_cannot_be_moved_onto_a_credential_without_requirements(bare):
    cpb, cpc, cohort, instructor, _, _ = bare
    aimed = enrollment.get_cohort_for(instructor, factories.cohort(instructor, cpc).id)
    cohort = enrollment.get_cohort_for(instructor, cohort.id)
    with pytest.raises(InvalidInput, match="CPB has no requirements yet"):
        cohorts.update_cohort(
            instructor,
            aimed,
            name=aimed.name,
            credential_id=cpb.id,
            start_date=date(2026, 9, 1),
            exam_date=None,
            inactivity_days=None,
            failed_attempts_limit=None,
            now=NOW,
        )
    # the cohort already aimed at it keeps its credential when its other settings change
    cohorts.update_cohort(
        instructor,
        cohort,
        name="Billing nights",
        credential_id=cpb.id,
        start_date=date(2026, 9, 1),
        exam_date=None,
        inactivity_days=None,
        failed_attempts_limit=None,
        now=NOW,
    )
    assert cohort.name == "Billing nights"
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 1
