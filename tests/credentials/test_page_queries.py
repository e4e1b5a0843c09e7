"""The credentials pages read a fixed number of statements whatever the data: more
credentials, more requirement versions, more exam results, a certificate with a longer
history."""

from datetime import date
from itertools import cycle

import pytest

from lms.auth.models import Role
from lms.credentials import catalogue, outcomes
from lms.credentials import service as credentials
from lms.extensions import db
from tests import factories
from tests.conftest import count_queries, login


def statements_of(client, url: str, status: int = 200) -> int:
    """How many statements one GET of ``url`` runs; it must answer ``status``."""
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == status, url
    return len(statements)


def more_credentials(how_many: int) -> None:
    """Catalogue entries without requirements, as ``sync-catalog`` leaves them."""
    credentials.sync_catalog(
        [{"code": f"X{n}", "name": f"Extra {n}", "issuing_body": "AHIMA"} for n in range(how_many)]
    )
    db.session.commit()


def test_the_catalogue_page_costs_the_same_for_1_and_12_credentials(app, client):
    factories.course("TERM", modules=1)
    factories.credential("CPC", modules=["TERM-1"])
    login(client, factories.user(Role.ADMIN).email)
    few = statements_of(client, "/admin/credentials")
    more_credentials(11)
    assert statements_of(client, "/admin/credentials") == few


def test_a_credential_page_costs_the_same_for_1_and_6_versions(app, client):
    factories.course("TERM", modules=3)
    credential = factories.credential("CPC", modules=["TERM-1"])
    login(client, factories.user(Role.ADMIN).email)
    url = f"/admin/credentials/{credential.id}"
    few = statements_of(client, url)
    for modules in (2, 3):
        children = [{"type": "module_completed", "module": f"TERM-{m + 1}"} for m in range(modules)]
        tree = {"type": "all_of", "children": children}
        for _ in range(modules):
            credentials.save_requirements(credential, tree, None, factories.NOW)
    db.session.commit()
    assert len(catalogue.requirement_versions(credential)) == 6
    assert statements_of(client, url) == few


def test_the_exam_results_page_costs_the_same_for_1_and_8_results(app, client):
    factories.course("TERM", modules=1)
    cpc = factories.credential("CPC", modules=["TERM-1"])
    more_credentials(3)
    student = factories.user(Role.STUDENT)
    login(client, student.email)

    def record(credential, day: int) -> None:
        outcomes.record_exam_outcome(
            student,
            student,
            credential,
            exam_date=date(2026, 10, day),
            passed=day % 2 == 0,
            score=60 + day,
            now=factories.NOW,
        )

    record(cpc, 1)
    db.session.commit()
    few = statements_of(client, "/exam-results")
    for day, credential in zip(range(2, 9), cycle(credentials.list_credentials()), strict=False):
        record(credential, day)
    db.session.commit()
    assert len(outcomes.outcomes_of([student.id])) == 8
    assert statements_of(client, "/exam-results") == few


@pytest.mark.parametrize("suffix", ["", ".json", "/certificate.pdf", "/credential.jwt"])
def test_a_verification_costs_the_same_for_a_short_and_a_long_history(app, client, suffix):
    factories.course("TERM", modules=1)
    credential = factories.credential("CPC", modules=["TERM-1"])
    instructor = factories.user(Role.INSTRUCTOR)
    student = factories.user(Role.STUDENT)
    factories.pass_module(student, "TERM-1")
    first = credentials.issue_certificate(student, credential, instructor, factories.NOW)
    db.session.commit()
    short = statements_of(client, f"/verify/{first.code}{suffix}")
    # superseded by a certificate under new requirements, which is then revoked: the first
    # one's history grows, and the table holds more certificates and events
    credentials.save_requirements(
        credential, {"type": "module_completed", "module": "TERM-1"}, None, factories.NOW
    )
    second = credentials.issue_certificate(student, credential, instructor, factories.NOW)
    credentials.revoke_certificate(
        instructor,
        second,
        "issued_in_error",
        "Issued in error.",
        factories.NOW,
        instructor_may=True,
    )
    db.session.commit()
    assert len(credentials.get_certificate(first.id).events) == 2
    assert statements_of(client, f"/verify/{first.code}{suffix}") == short
    gone = suffix == "/credential.jwt"  # none is issued for a revoked certificate
    revoked = statements_of(client, f"/verify/{second.code}{suffix}", 410 if gone else 200)
    # A revoked certificate gets no fresh credential (410): it costs no more, maybe less.
    assert revoked <= short if gone else revoked == short
