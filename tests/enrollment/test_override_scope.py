"""An override counts only in the cohort it was recorded in: a student in two cohorts of the
same credential, overridden in one, is judged without it in the other, on every page that
judges readiness and when a certificate is issued there."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from lms.auth.models import Role
from lms.credentials import service as credentials
from lms.credentials.models import Certificate
from lms.enrollment.progress.dashboard import student_dashboard
from lms.extensions import db
from lms.ledger import service as ledger
from lms.ledger.models import LedgerEntry, LedgerKind
from lms.reports import export_sql, exports
from lms.reports.exports import COMPLETION_COLUMNS
from lms.reports.filters import RecordFilter
from tests import factories
from tests.conftest import login, post_form
from tests.enrollment.conftest import ledger_count, table_counts
from tests.enrollment.test_matrix import row_of

REASON = "Passed the equivalent module at Valley College (transcript on file)"


@pytest.fixture
def two_cohorts(school):
    """One student in cohort A (Dana's) and cohort B (another school's instructor, Rui's)
    of the same credential, with two of its three modules passed. Automatic issue is off in
    A and on in B, so an override in A that counted in B would issue a certificate there."""
    credential, dana = school
    rui = factories.user(Role.INSTRUCTOR, name="Rui Okafor")
    student = factories.user(Role.STUDENT, name="Sam Rivera")
    cohort_a = factories.cohort(dana, credential, [student], name="Alpha")
    cohort_b = factories.cohort(rui, credential, [student], name="Bravo")
    credentials.set_auto_issue(dana, cohort_a.id, False, factories.NOW)
    db.session.commit()
    factories.pass_module(student, "TERM-1")
    factories.pass_module(student, "TERM-2")
    return credential, dana, rui, student, cohort_a, cohort_b


def override_in_a(client, dana, student, cohort_a) -> None:
    login(client, dana.email)
    response = post_form(
        client,
        f"/cohorts/{cohort_a.id}/students/{student.id}/overrides",
        {"key": "TERM-3", "decision": "met", "reason": REASON},
    )
    assert response.status_code == 302
    client.get("/logout")


def section_of(page: str, cohort_id: int) -> str:
    """The dashboard's card of one cohort."""
    match = re.search(
        rf'<section class="card" aria-labelledby="cred-{cohort_id}">(.*?)</section>', page, re.S
    )
    assert match, f"no card for cohort {cohort_id}"
    return match.group(1)


def test_an_override_in_one_cohort_counts_there_and_nowhere_else(client, two_cohorts):
    credential, dana, rui, student, cohort_a, cohort_b = two_cohorts
    override_in_a(client, dana, student, cohort_a)

    # The entry names its cohort; B's automatic issue did not count it.
    entry = db.session.scalar(
        select(LedgerEntry).where(LedgerEntry.kind == LedgerKind.OVERRIDE_GRANTED)
    )
    assert (entry.cohort_id, entry.credential_id, entry.met) == (cohort_a.id, credential.id, True)
    assert table_counts(Certificate) == (0,)

    # The completions export says where it counts, from Python and from the database alike.
    python = exports.Measured(exports.completion_records())
    csv_text = b"".join(exports.render("csv", python, COMPLETION_COLUMNS, sheet="x", base_url=""))
    assert csv_text == b"".join(export_sql.LedgerText("csv", RecordFilter(), None))
    rows = list(csv.DictReader(io.StringIO(csv_text.decode())))
    assert [(r["source"], r["cohort_id"]) for r in rows if r["kind"] == "override_granted"] == [
        ("override:met", str(cohort_a.id))
    ]

    # A's matrix and record: met by the override; B's: not met, no override listed.
    login(client, dana.email)
    page = client.get(f"/cohorts/{cohort_a.id}").get_data(as_text=True)
    assert "Met (override)" in row_of(page, "Sam Rivera") and "<strong>1 of 1</strong>" in page
    record = client.get(f"/cohorts/{cohort_a.id}/students/{student.id}").get_data(as_text=True)
    assert "Marked met" in record and REASON in record
    assert "It will count in Alpha only." in record
    client.get("/logout")
    login(client, rui.email)
    page = client.get(f"/cohorts/{cohort_b.id}").get_data(as_text=True)
    assert "override" not in row_of(page, "Sam Rivera") and "<strong>0 of 1</strong>" in page
    record = client.get(f"/cohorts/{cohort_b.id}/students/{student.id}").get_data(as_text=True)
    assert "No overrides." in record and REASON not in record
    certificates = client.get(f"/cohorts/{cohort_b.id}/certificates").get_data(as_text=True)
    assert "Not ready" in certificates

    # B's instructor cannot reverse what was decided in A: there is none in B.
    entries = ledger_count()
    response = post_form(
        client,
        f"/cohorts/{cohort_b.id}/students/{student.id}/overrides",
        {"key": "TERM-3", "decision": "revoke", "reason": "Not ours"},
    )
    assert response.status_code == 409
    assert "There is no override of TERM-3 to reverse." in response.get_data(as_text=True)
    assert ledger_count() == entries

    # The student's dashboard: ready in A, TERM-3 still to do in B.
    client.get("/logout")
    login(client, student.email)
    page = client.get("/dashboard").get_data(as_text=True)
    in_a, in_b = section_of(page, cohort_a.id), section_of(page, cohort_b.id)
    assert "You meet every requirement" in in_a and "Still to do" not in in_a
    assert "You meet every requirement" not in in_b
    assert "Pass Module 3 of TERM (TERM-3)" in in_b


def test_issuing_in_the_other_cohort_does_not_count_the_override(client, two_cohorts):
    credential, dana, rui, student, cohort_a, cohort_b = two_cohorts
    override_in_a(client, dana, student, cohort_a)

    login(client, rui.email)
    url = f"/cohorts/{cohort_b.id}/certificates/issue"
    response = post_form(client, url, {"student_id": str(student.id)})
    assert response.status_code == 409
    assert "Sam Rivera is not ready for CPC" in response.get_data(as_text=True)
    response = post_form(client, url, {"student_id": ""}, follow_redirects=True)
    assert "No student is ready without a certificate already." in response.get_data(as_text=True)
    assert table_counts(Certificate) == (0,)
    client.get("/logout")

    # In A, where it was recorded, it counts.
    login(client, dana.email)
    url = f"/cohorts/{cohort_a.id}/certificates/issue"
    assert post_form(client, url, {"student_id": str(student.id)}).status_code == 302
    assert db.session.scalars(select(Certificate.student_id)).all() == [student.id]


def test_an_override_recorded_before_overrides_named_a_cohort_counts_in_every_cohort_of_its_credential(  # noqa: E501
    client, two_cohorts
):
    credential, dana, rui, student, cohort_a, cohort_b = two_cohorts
    other = factories.credential("CCS", modules=["TERM-3"])
    # As record_override wrote them before: the credential, no cohort.
    for credential_id, key in ((credential.id, "TERM-3"), (other.id, "TERM-1")):
        ledger.append_entry(
            student=student,
            kind=LedgerKind.OVERRIDE_GRANTED,
            source="override",
            source_ref=key,
            met=credential_id == credential.id,
            credential_id=credential_id,
            actor=dana,
            now=factories.NOW,
        )
    db.session.commit()
    assert table_counts(Certificate) == (1,)  # ready in B, where issue is automatic
    progress = {item.cohort.id: item for item in student_dashboard(student, factories.NOW)}
    assert progress[cohort_a.id].outcome.met and progress[cohort_b.id].outcome.met
    login(client, dana.email)
    record = client.get(f"/cohorts/{cohort_a.id}/students/{student.id}").get_data(as_text=True)
    assert "Marked met" in record
    assert "recorded before overrides named their cohort: counts in every cohort of CPC" in record
    assert "Marked not met" not in record  # CCS's, not this credential's
    # ... but not for another credential's cohort: CCS's TERM-1 override was not met, and it
    # leaves CPC alone (TERM-1 stays passed).
    assert ledger.current_overrides(
        [student.id], ledger.OverrideScope(cohort_a.id, credential.id)
    ) == {student.id: {"TERM-3": True}}
    # A reversal in A withdraws it in A only.
    scope_a = ledger.OverrideScope(cohort_a.id, credential.id)
    ledger.append_entry(
        student=student,
        kind=LedgerKind.OVERRIDE_REVOKED,
        source="override",
        source_ref="TERM-3",
        credential_id=credential.id,
        cohort_id=cohort_a.id,
        actor=dana,
        now=factories.NOW,
    )
    db.session.commit()
    assert ledger.current_overrides([student.id], scope_a) == {student.id: {}}
    scope_b = ledger.OverrideScope(cohort_b.id, credential.id)
    assert ledger.current_overrides([student.id], scope_b) == {student.id: {"TERM-3": True}}


def test_automatic_issue_judges_each_cohort_with_its_own_overrides(client, two_cohorts):
    credential, dana, rui, student, cohort_a, cohort_b = two_cohorts
    credentials.set_auto_issue(dana, cohort_a.id, True, factories.NOW)
    db.session.commit()
    # Recorded in B, the student's second cohort: judged in A without it, in B with it.
    login(client, rui.email)
    response = post_form(
        client,
        f"/cohorts/{cohort_b.id}/students/{student.id}/overrides",
        {"key": "TERM-3", "decision": "met", "reason": REASON},
    )
    assert response.status_code == 302
    assert db.session.scalars(select(Certificate.student_id)).all() == [student.id]
    progress = {item.cohort.id: item for item in student_dashboard(student, factories.NOW)}
    assert not progress[cohort_a.id].outcome.met and progress[cohort_b.id].outcome.met
