"""The cohort page's read model (``progress_row``): after any sequence of facts recorded
through the services it says what the readiness engine says of every student; the page
reads it in the same number of queries at any cohort size; ``progress rebuild`` finds and
mends a row that is wrong; verdicts that move with the date are re-judged by
``progress refresh``. Written for SQLite and PostgreSQL alike (no dialect-specific SQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from lms.auth.models import Role, User
from lms.courses import time_on_task
from lms.courses.attempts import sitting
from lms.credentials import service as credentials
from lms.credentials.models import Evidence, EvidenceStatus
from lms.credentials.rules import EvidenceKind
from lms.enrollment import enrollments, overrides, schedule
from lms.enrollment import service as enrollment_service
from lms.enrollment.models import Cohort, Enrollment, EnrollmentStatus, ProgressRow
from lms.enrollment.progress import cohort_page, readmodel
from lms.enrollment.progress.matrix import DEFAULT_POLICY, cohort_progress
from lms.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from lms.extensions import db
from tests import factories
from tests.conftest import count_queries, login

MODULES = ["TERM-1", "TERM-2", "TERM-3"]
# Every kind of leaf the cohort page shows, a score window of two days among them.
TREES = [
    {
        "type": "all_of",
        "children": [
            *({"type": "module_completed", "module": m, "min_score": 70} for m in MODULES),
            {"type": "assessment_score", "module": "TERM-2", "min_score": 70, "within_days": 2},
            {"type": "contact_hours", "hours": 0.05},
            {"type": "evidence", "kind": "hs_diploma_or_ged"},
        ],
    },
    {
        "type": "all_of",
        "children": [
            {"type": "module_completed", "module": "TERM-1", "min_score": 70},
            {"type": "contact_hours", "hours": 0.02},
        ],
    },
]
KEYS = ["TERM-1", "TERM-2", "TERM-3"]


@pytest.fixture
def school(app):
    factories.course("TERM", modules=3)
    credential = factories.credential("CPC", tree=TREES[0])
    instructor = factories.user(Role.INSTRUCTOR, name="Dana Whitfield")
    return credential, instructor


def active_ids(cohort_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(Enrollment.student_id).where(
                Enrollment.cohort_id == cohort_id, Enrollment.status == EnrollmentStatus.ACTIVE
            )
        )
    )


def stored_rows(cohort_id: int) -> dict[int, ProgressRow]:
    rows = db.session.scalars(select(ProgressRow).where(ProgressRow.cohort_id == cohort_id))
    return {row.student_id: row for row in rows}


def assert_model_matches_engine(now, *, only_current: bool = False, cohort_id=None) -> None:
    """Every cohort's rows are exactly its active students, each as the engine judges it at
    ``now`` (with ``only_current``, only the rows whose verdict has not passed its date)."""
    db.session.expire_all()
    cohorts = select(Cohort).options(selectinload(Cohort.credential))
    if cohort_id is not None:  # Hypothesis's examples share the database: only this one's
        cohorts = cohorts.where(Cohort.id == cohort_id)
    for cohort in db.session.scalars(cohorts):
        ids = active_ids(cohort.id)
        stored = stored_rows(cohort.id)
        assert set(stored) == set(ids), cohort.id
        if not ids:
            continue
        judgement = credentials.judge_readiness(cohort.credential, ids, now, cohort_id=cohort.id)
        full = {r.student.id: r for r in cohort_progress(cohort, now=now).rows}
        for sid in ids:
            row = stored[sid]
            if only_current and row.valid_until is not None and row.valid_until <= now:
                continue
            verdict = judgement.verdicts[sid]
            letters = "".join(readmodel.LETTERS[s] for s in verdict.leaf_states)
            said = (row.ready, round(row.progress, 6), row.leaf_states)
            assert said == (verdict.met, round(verdict.progress, 6), letters), sid
            assert row.requirement_version == judgement.requirement_set.version
            judged = full[sid]
            assert row.at_risk == judged.at_risk and row.risk_reasons == "\n".join(
                judged.risk_reasons
            )
            assert row.contact_hours == pytest.approx(judged.contact_hours, abs=1e-4)
            assert row.exam_booked_on == judged.exam_booked_on
            assert row.pending_evidence == len(judged.pending_evidence)


def assert_counts_match_rows(cohort_id: int, now) -> None:
    """The cohort page's counts over the whole cohort (grouped in the database) are the
    rows' flags counted one by one, and its list of evidence to review (newest first) is that
    of the first students with some waiting in the matrix's order by name (the database's
    collation)."""
    cohort = db.session.get(Cohort, cohort_id)
    summary, shown = cohort_page.cohort_page(
        cohort,
        show="all",
        sort="name",
        search="",
        page=1,
        per_page=50,
        now=now,
        default_policy=DEFAULT_POLICY,
    )
    rows = list(stored_rows(cohort_id).values())
    said = (
        summary.total,
        summary.ready_count,
        summary.at_risk_count,
        summary.booked_not_ready_count,
        summary.stale_count,
        summary.exam.sat,
        summary.exam.passed,
        summary.exam.passed_first_time,
        summary.upcoming_count,
        summary.pending_students,
    )
    counted = (
        len(rows),
        sum(r.ready for r in rows),
        sum(r.at_risk for r in rows),
        sum(r.booked_not_ready for r in rows),
        sum(r.valid_until is not None and r.valid_until <= now for r in rows),
        sum(r.exam_sat for r in rows),
        sum(r.exam_passed for r in rows),
        sum(r.exam_passed_first for r in rows),
        sum(r.exam_booked_on is not None and r.exam_booked_on >= now.date() for r in rows),
        sum(r.pending_evidence > 0 for r in rows),
    )
    assert said == counted
    waiting = {r.student_id for r in rows if r.pending_evidence > 0}
    by_name = [row.student.id for row in shown.rows]  # the whole (small) cohort
    listed = {e.student_id for e in summary.pending_evidence}
    assert listed == {sid for sid in by_name if sid in waiting}
    assert len(by_name) <= cohort_page.EVIDENCE_SHOWN  # so every one of them is listed


# One fact: (what, which student, a parameter).
FACTS = st.tuples(
    st.sampled_from(
        [
            "pass",
            "fail",
            "beat",
            "override",
            "evidence",
            "decide",
            "withdraw",
            "enrol",
            "book",
            "requirements",
            "next_day",
        ]
    ),
    st.integers(0, 2),
    st.integers(0, 5),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(facts=st.lists(FACTS, min_size=1, max_size=14))
def test_the_read_model_says_what_the_engine_says_after_any_facts(school, facts):
    credential, instructor = school
    students = [factories.user(Role.STUDENT) for _ in range(3)]
    cohort = factories.cohort(instructor, credential, students)
    now = factories.NOW
    for what, who, value in facts:
        student = students[who]
        now += timedelta(minutes=1)
        try:
            with db.session.begin_nested():  # a refused fact leaves nothing, as a request
                record(what, student, value, cohort, instructor, now)
        except (Conflict, InvalidInput, NotFound, PermissionDenied):
            pass
        if what == "next_day":
            now += timedelta(days=1)
    db.session.commit()
    # rows judged today hold without any help ...
    # (each example's clock starts again at NOW, so earlier examples' cohorts, judged at
    # their own later times, are not this example's to check)
    assert_model_matches_engine(now, only_current=True, cohort_id=cohort.id)
    assert_counts_match_rows(cohort.id, now)
    # ... and the nightly refresh brings the ones judged before a day passed up to date
    readmodel.refresh_expired(now)
    db.session.commit()
    assert_model_matches_engine(now, cohort_id=cohort.id)


def record(what: str, student: User, value: int, cohort: Cohort, instructor: User, now) -> None:
    """Record one fact through the service that records it in the app (with the cohort loaded
    afresh, as a request would: a refused fact's rollback expired it)."""
    cohort = db.session.scalar(
        select(Cohort).options(selectinload(Cohort.credential)).where(Cohort.id == cohort.id)
    )
    module_code = MODULES[value % 3]
    if what == "pass":
        sitting.submit_quiz(
            student, factories.module(module_code).id, factories.answers(module_code), now
        )
    elif what == "fail":
        sitting.submit_quiz(
            student, factories.module(module_code).id, factories.answers(module_code, 0), now
        )
    elif what == "beat":
        time_on_task.record_heartbeat(student, factories.module(module_code).id, now)
        time_on_task.record_heartbeat(student, factories.module(module_code).id, now)
    elif what == "override":
        met = (True, False, None)[value % 3]
        enrolment = enrollment_service.get_enrollment_for(instructor, cohort, student.id)
        overrides.record_override(
            instructor, cohort, enrolment, key=KEYS[value % 3], met=met, reason="RPL", now=now
        )
    elif what == "evidence":
        credentials.submit_evidence(student, EvidenceKind.HS_DIPLOMA_OR_GED, "GED, 2019", now)
    elif what == "decide":
        waiting = db.session.scalar(
            select(Evidence.id).where(
                Evidence.student_id == student.id, Evidence.status == EvidenceStatus.SUBMITTED
            )
        )
        if waiting is not None:
            enrollment_service.decide_evidence(
                instructor, waiting, verified=value % 2 == 0, reason="Unreadable", now=now
            )
    elif what == "withdraw":
        enrollments.withdraw(instructor, cohort, student.id, "left", now)
    elif what == "enrol":
        enrollment_service.enroll_student(instructor, cohort, student, now)
    elif what == "book":
        booked = None if value == 0 else now.date() + timedelta(days=value * 7)
        schedule.record_exam_booking(
            student,
            cohort.id,
            booked_on=booked,
            employer_paid=False,
            today=now.date(),
            now=now,
        )
    elif what == "requirements":
        credential = credentials.get_credential(cohort.credential_id)
        credentials.save_requirements(credential, TREES[value % 2], instructor, now)


def test_a_withdrawal_removes_the_row_and_a_new_requirement_set_judges_everyone(school):
    credential, instructor = school
    ada, ben = factories.user(Role.STUDENT), factories.user(Role.STUDENT)
    cohort = factories.cohort(instructor, credential, [ada, ben])
    now = factories.NOW
    factories.pass_module(ada, "TERM-1", now)
    assert set(stored_rows(cohort.id)) == {ada.id, ben.id}
    assert stored_rows(cohort.id)[ada.id].leaf_states == "dnnnnn"
    enrollments.withdraw(instructor, cohort, ben.id, "moved away", now)
    db.session.commit()
    assert set(stored_rows(cohort.id)) == {ada.id}
    credentials.save_requirements(credential, TREES[1], instructor, now)
    db.session.commit()
    row = stored_rows(cohort.id)[ada.id]
    assert (row.requirement_version, row.leaf_states, row.progress) == (2, "dn", 0.5)


def test_rebuild_reports_and_mends_a_corrupted_row(app, school):
    credential, instructor = school
    ada, ben = factories.user(Role.STUDENT, name="Ada"), factories.user(Role.STUDENT, name="Ben")
    cohort = factories.cohort(instructor, credential, [ada, ben])
    factories.pass_module(ada, "TERM-1")
    runner = app.test_cli_runner()
    clean = runner.invoke(args=["progress", "rebuild"])
    assert clean.exit_code == 0, clean.output
    # judged again at the clock of the command (not factories.NOW): some rows may move with
    # the date; a second run finds nothing left to change
    again = runner.invoke(args=["progress", "rebuild"])
    assert "Rebuilt the progress rows: 0 rows changed." in again.output
    db.session.execute(
        update(ProgressRow)
        .where(ProgressRow.cohort_id == cohort.id, ProgressRow.student_id == ada.id)
        .values(ready=True, progress=1.0)
    )
    db.session.execute(
        update(ProgressRow)
        .where(ProgressRow.cohort_id == cohort.id, ProgressRow.student_id == ben.id)
        .values(sort_name="zed")
    )
    db.session.commit()
    result = runner.invoke(args=["progress", "rebuild"])
    assert result.exit_code == 0, result.output
    assert f"cohort {cohort.id}, student {ada.id}: changed (progress, ready)" in result.output
    assert f"cohort {cohort.id}, student {ben.id}: changed (sort_name)" in result.output
    assert "Rebuilt the progress rows: 2 rows changed." in result.output
    db.session.expire_all()
    rows = stored_rows(cohort.id)
    assert rows[ada.id].ready is False and rows[ada.id].progress < 1.0
    assert rows[ben.id].sort_name == "ben"
    # a row that should not exist (a student no longer enrolled) is removed and reported
    db.session.execute(
        update(Enrollment)
        .where(Enrollment.cohort_id == cohort.id, Enrollment.student_id == ben.id)
        .values(status=EnrollmentStatus.WITHDRAWN)
    )
    db.session.commit()
    result = runner.invoke(args=["progress", "rebuild"])
    assert f"cohort {cohort.id}, student {ben.id}: removed" in result.output
    db.session.expire_all()
    assert set(stored_rows(cohort.id)) == {ada.id}


def test_a_score_leaving_its_window_is_rejudged_by_the_nightly_refresh(app, school):
    credential, instructor = school
    ada = factories.user(Role.STUDENT)
    cohort = factories.cohort(instructor, credential, [ada])
    now = factories.NOW
    for code in MODULES:
        factories.pass_module(ada, code, now)
    for minute in range(8):  # eight beats a minute apart: over the 0.05 hours asked
        time_on_task.record_heartbeat(
            ada, factories.module("TERM-1").id, now + timedelta(minutes=minute)
        )
    credentials.submit_evidence(ada, EvidenceKind.HS_DIPLOMA_OR_GED, "GED", now)
    evidence_id = db.session.scalar(select(Evidence.id))
    enrollment_service.decide_evidence(instructor, evidence_id, verified=True, reason="", now=now)
    db.session.commit()
    row = stored_rows(cohort.id)[ada.id]
    assert row.ready is True, row.leaf_states
    # a score counts for two days: the verdict may move at the next midnight
    assert row.valid_until == readmodel.next_midnight(now)
    assert readmodel.refresh_expired(now + timedelta(hours=1)) == []  # nothing past its date
    later = now + timedelta(days=3)
    changes = readmodel.refresh_expired(later)
    db.session.commit()
    assert [(c.student_id, c.action) for c in changes] == [(ada.id, "changed")]
    assert "ready" in changes[0].columns
    db.session.expire_all()
    assert stored_rows(cohort.id)[ada.id].ready is False
    assert_model_matches_engine(later)


def _page_queries(client, cohort_id: int, query: str) -> tuple[int, str]:
    db.session.expunge_all()
    with count_queries() as queries:
        response = client.get(f"/cohorts/{cohort_id}{query}")
    assert response.status_code == 200
    return len(queries), response.get_data(as_text=True)


def test_the_cohort_page_makes_the_same_queries_at_two_sizes(app, client, school):
    credential, instructor = school
    sizes = {}
    for size in (8, 160):
        cohort = factories.cohort(instructor, credential)
        students = factories.many_students(cohort, size, prefix=f"s{size}-")
        factories.pass_module(students[0], "TERM-1")
        sitting.submit_quiz(
            students[1],
            factories.module("TERM-2").id,
            factories.answers("TERM-2", 0),
            factories.NOW,
        )
        credentials.submit_evidence(
            students[2], EvidenceKind.HS_DIPLOMA_OR_GED, "GED", factories.NOW
        )
        schedule.record_exam_booking(
            students[3],
            cohort.id,
            booked_on=date.today() + timedelta(days=30),
            employer_paid=True,
            today=date.today(),
            now=factories.NOW,
        )
        db.session.commit()
        sizes[size] = cohort.id
    login(client, instructor.email)
    counted: dict[str, list[int]] = {}
    for size, cohort_id in sizes.items():
        for query in ("", "?sort=-progress", "?show=at_risk&sort=exam", "?q=s&page=1"):
            queries, page = _page_queries(client, cohort_id, query)
            counted.setdefault(query, []).append(queries)
        # the counts cover the whole cohort, the page shows fifty at most
        _, page = _page_queries(client, cohort_id, "")
        assert "students ready for CPC" in page
        assert page.count('<th scope="row">') == min(size, 50)
        assert f"of {size}</strong> students ready" in page
    for query, numbers in counted.items():
        assert numbers[0] == numbers[1], (query, numbers)


def test_the_search_finds_students_by_name_or_email_over_the_whole_cohort(client, school):
    credential, instructor = school
    cohort = factories.cohort(instructor, credential)
    factories.many_students(cohort, 120, prefix="find")
    special = factories.user(Role.STUDENT, name="Zoë O'Hara_%")
    enrollment_service.enroll_student(instructor, cohort, special, factories.NOW)
    db.session.commit()
    login(client, instructor.email)
    _, page = _page_queries(client, cohort.id, "?q=o%27hara_%25")
    assert page.count('<th scope="row">') == 1 and "Zoë O&#39;Hara_%" in page
    _, page = _page_queries(client, cohort.id, "?q=0119")  # "Student find 0119"
    assert page.count('<th scope="row">') == 1
    # a wildcard typed is a character, not a pattern
    _, page = _page_queries(client, cohort.id, "?q=%25%25")
    assert (
        page.count('<th scope="row">') == 0 and "No student matches this filter and search" in page
    )
