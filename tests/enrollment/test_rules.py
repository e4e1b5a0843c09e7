"""Pure rules of the enrolment domain: roster files, study plans, at-risk flags (no app)."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.credentials import rules as readiness
from lms.enrollment import chart
from lms.enrollment.rules import cohorts, plan, risk, roster_file
from lms.errors import Problem

HEADER = "email,first name,last name,student id\r\n"


def problems_of(roster: roster_file.Roster) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.reason) for p in roster.problems]


# --- roster files ------------------------------------------------------------------------


def test_a_clean_roster_is_read_row_by_row():
    data = (HEADER + "Ana@Example.org,Ana,Lima,S-1\r\nbo@example.org,Bo,Chen,\r\n").encode()
    roster = roster_file.parse_roster(data, max_bytes=10_000)
    assert roster.ok
    assert roster.rows == (
        roster_file.RosterRow(2, "ana@example.org", "Ana", "Lima", "S-1"),
        roster_file.RosterRow(3, "bo@example.org", "Bo", "Chen", None),
    )


def test_excel_quirks_bom_semicolons_quotes_crlf_trailing_rows_and_header_spelling():
    text = (
        "\ufeff Email ;First_Name;LAST  NAME;Student-ID\r\n"
        'ana@example.org;"Ana Maria";"Lima; Jr.";001\r\n'
        '"bo@example.org";Bo;"O""Neil";\r\n'
        ";;;\r\n"
        ";;;\r\n"
    )
    roster = roster_file.parse_roster(text.encode("utf-8"), max_bytes=10_000)
    assert roster.ok, roster.problems
    assert [(r.row, r.email, r.first_name, r.last_name, r.student_id) for r in roster.rows] == [
        (2, "ana@example.org", "Ana Maria", "Lima; Jr.", "001"),
        (3, "bo@example.org", "Bo", 'O"Neil', None),
    ]


def test_a_windows_1252_file_is_read():
    data = "email,first name,last name\r\nzoe@example.org,Zoë,Müller\r\n".encode("cp1252")
    roster = roster_file.parse_roster(data, max_bytes=10_000)
    assert roster.rows[0].first_name == "Zoë" and roster.rows[0].last_name == "Müller"


def test_every_bad_row_is_reported_with_row_column_and_reason():
    text = (
        "email,first name,last name\n"
        "good@example.org,Good,Row\n"
        ",No,Email\n"
        "not-an-email,Bad,Email\n"
        "GOOD@example.org,Again,Twice\n"
        "x@example.org,,\n"
    )
    roster = roster_file.parse_roster(text.encode(), max_bytes=10_000)
    assert [r.row for r in roster.rows] == [2]
    assert problems_of(roster) == [
        (3, "email", "missing email"),
        (4, "email", "malformed email “not-an-email”"),
        (5, "email", "duplicate in the file (first on row 2)"),
        (6, "first name", "missing first name"),
        (6, "last name", "missing last name"),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\r\n\r\n", "The file is empty."),
        (b"ana@example.org,Ana,Lima\n", "the header row is missing"),
        (b"name,surname\nAna,Lima\n", "must be a header naming the columns"),
        (b"email,first name\na@example.org,Ana\n", "no column last name"),
        (b"email,email,first name,last name\n", "names email twice"),
        (b"email,first name,last name\n", "a header row but no students"),
        (b"\x00\x01\x02PK", "not text"),
    ],
)
def test_unusable_files_are_refused_with_a_clear_message(data, message):
    with pytest.raises(roster_file.RosterFileError, match=message):
        roster_file.parse_roster(data, max_bytes=10_000)


def test_a_file_over_the_limit_is_refused():
    data = (HEADER + "a@example.org,A,B,\n" * 100).encode()
    with pytest.raises(roster_file.RosterFileError, match="the limit is 1 KB"):
        roster_file.parse_roster(data, max_bytes=1024)


def test_a_file_with_too_many_rows_is_refused():
    data = (HEADER + "".join(f"s{i}@example.org,A,B,\n" for i in range(11))).encode()
    assert len(roster_file.parse_roster(data, max_bytes=10_000, max_rows=11).rows) == 11
    with pytest.raises(roster_file.RosterFileError, match="lists 11 students; at most 10"):
        roster_file.parse_roster(data, max_bytes=10_000, max_rows=10)


def test_accounts_already_enrolled_or_staff_are_reported():
    roster = roster_file.parse_roster(
        b"email,first name,last name\nin@x.org,In,Here\nstaff@x.org,Dana,W\nnew@x.org,New,One\n",
        max_bytes=10_000,
    )
    checked = roster_file.check_against_accounts(
        roster,
        {
            "in@x.org": roster_file.KnownAccount(is_student=True, enrolled_here=True),
            "staff@x.org": roster_file.KnownAccount(is_student=False, enrolled_here=False),
        },
    )
    assert [r.email for r in checked.rows] == ["new@x.org"]
    assert problems_of(checked) == [
        (2, "email", "already enrolled in this cohort"),
        (3, "email", "belongs to a staff account, not a student"),
    ]


names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip() == s and s.strip())
people = st.lists(
    st.tuples(st.from_regex(r"[a-z]{1,8}\.[a-z]{1,8}", fullmatch=True), names, names),
    min_size=1,
    max_size=15,
    unique_by=lambda p: p[0],
)


@settings(max_examples=60, deadline=None)
@given(
    people=people,
    delimiter=st.sampled_from([",", ";", "\t"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
    trailing=st.integers(0, 3),
)
def test_any_roster_written_by_a_csv_writer_reads_back(people, delimiter, newline, bom, trailing):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerow(["Email", "First Name", "Last Name"])
    for local, first, last in people:
        writer.writerow([f"{local}@example.org", first, last])
    for _ in range(trailing):
        writer.writerow(["", "", ""])
    data = ("\ufeff" if bom else "").encode() + buffer.getvalue().encode("utf-8")
    roster = roster_file.parse_roster(data, max_bytes=1_000_000)
    assert roster.ok, roster.problems
    assert [(r.email, r.first_name, r.last_name) for r in roster.rows] == [
        (f"{local}@example.org", first, last) for local, first, last in people
    ]
    assert [r.row for r in roster.rows] == list(range(2, len(people) + 2))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_the_parser(data):
    try:
        roster = roster_file.parse_roster(data, max_bytes=1000)
    except roster_file.RosterFileError as error:
        assert str(error)
    else:
        for problem in roster.problems:
            assert problem.row >= 2 and problem.column in roster_file.COLUMNS and problem.reason


# --- cohorts and join codes --------------------------------------------------------------


def test_cohort_problems_lists_every_reason_on_its_field():
    settings = cohorts.CohortSettings(
        name=" Day Class ",
        start_date=date(2026, 9, 1),
        exam_date=date(2026, 8, 1),
        inactivity_days=0,
        failed_attempts_limit=51,
    )
    assert cohorts.cohort_problems(settings, ["day class"]) == [
        Problem("You already teach a cohort named “Day Class”.", "name"),
        Problem("The exam date cannot be before the start date.", "exam_date"),
        Problem("Number must be between 1 and 365.", "inactivity_days"),
        Problem("Number must be between 1 and 50.", "failed_attempts_limit"),
    ]
    unnamed = cohorts.CohortSettings(name="  ", start_date=None, exam_date=None)
    assert cohorts.cohort_problems(unnamed, []) == [
        Problem("Give the cohort a name.", "name"),
        Problem("Give the start date.", "start_date"),
    ]
    assert cohorts.cohort_problems(
        cohorts.CohortSettings(name="x" * 201, start_date=date(2026, 9, 1), exam_date=None), []
    ) == [Problem("Keep the name to 200 characters.", "name")]
    fine = cohorts.CohortSettings(
        name="x", start_date=date(2026, 9, 1), exam_date=None, inactivity_days=365
    )
    assert cohorts.cohort_problems(fine, []) == []


def test_enrolment_override_and_date_problems_name_their_fields():
    address = "ana@school.edu"
    assert cohorts.enrolment_problems(address, is_student=True, full_name=None) == []
    assert cohorts.enrolment_problems(address, is_student=None, full_name="Ana Lima") == []
    assert cohorts.enrolment_problems(address, is_student=None, full_name=" ") == [
        Problem("There is no student account with the email ana@school.edu.", "email"),
        Problem("Give their name to invite them.", "full_name"),
    ]
    assert cohorts.enrolment_problems(address, is_student=False, full_name="Ana Lima") == [
        Problem("There is no student account with the email ana@school.edu.", "email")
    ]
    assert [p.field for p in cohorts.override_problems("TERM-9", " ", {"TERM-1"})] == [
        "key",
        "reason",
    ]
    assert cohorts.override_problems("TERM-1", "RPL", {"TERM-1"}) == []
    start, exam = date(2026, 9, 1), date(2026, 12, 1)
    assert [
        p.field for p in plan.due_date_problems("NOPE", date(2027, 1, 1), {"A"}, start, exam)
    ] == ["module_code", "due_on"]
    assert plan.due_date_problems("A", exam, {"A"}, start, exam) == []
    assert plan.booking_problems(date(2026, 8, 31), today=start) == [
        Problem("The exam date you booked cannot be in the past.", "booked_on")
    ]
    assert plan.booking_problems(None, today=start) == []
    assert cohorts.join_code_problems("ABCD-EFGH") == []
    assert [p.field for p in cohorts.join_code_problems("ABCD-EFG0")] == ["code"]


def test_join_codes_are_read_in_any_case_with_spaces_or_dashes():
    assert cohorts.normalise_join_code("abcd-efgh") == "ABCDEFGH"
    assert cohorts.normalise_join_code(" AB CD EF GH ") == "ABCDEFGH"
    assert cohorts.normalise_join_code("ABCDEFG0") is None  # 0 is not in the alphabet
    assert cohorts.normalise_join_code("short") is None


# --- study plans -------------------------------------------------------------------------


def test_due_dates_are_spread_by_estimated_time_and_leave_a_review_week():
    start, exam = date(2026, 9, 1), date(2026, 10, 13)  # 42 days: review from 6 Oct
    modules = [
        plan.PlannedModule("A", 60),
        plan.PlannedModule("B", 30),
        plan.PlannedModule("C", 90),
    ]
    due = plan.plan_due_dates(start, exam, modules)
    assert due == {"A": date(2026, 9, 13), "B": date(2026, 9, 19), "C": date(2026, 10, 6)}


def test_a_short_cohort_uses_every_day_and_no_exam_means_no_plan():
    modules = [plan.PlannedModule("A", 10), plan.PlannedModule("B", 10)]
    assert plan.plan_due_dates(date(2026, 9, 1), date(2026, 9, 11), modules) == {
        "A": date(2026, 9, 6),
        "B": date(2026, 9, 11),
    }
    assert plan.plan_due_dates(date(2026, 9, 1), None, modules) == {}


@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)),
    days=st.integers(0, 400),
    minutes=st.lists(st.integers(-5, 600), min_size=1, max_size=30),
)
def test_due_dates_are_in_order_and_inside_the_window(start, days, minutes):
    exam = start + timedelta(days=days)
    modules = [plan.PlannedModule(f"M{i}", m) for i, m in enumerate(minutes)]
    due = list(plan.plan_due_dates(start, exam, modules).values())
    assert len(due) == len(modules)
    assert due == sorted(due)
    assert all(start <= d <= exam for d in due)


def test_this_week_lists_overdue_and_coming_modules_not_done():
    due = {
        "A": date(2026, 9, 1),
        "B": date(2026, 9, 10),
        "C": date(2026, 9, 16),
        "D": date(2026, 9, 20),
    }
    assert plan.due_this_week(due, {"A"}, date(2026, 9, 10)) == ["B", "C"]


def test_a_late_joiners_plan_starts_from_the_day_they_joined():
    start, exam = date(2026, 9, 1), date(2026, 12, 1)
    due = {"A": date(2026, 9, 11), "B": date(2026, 10, 1)}  # 10 and 30 days after the start
    joined = date(2026, 10, 1)  # 30 days late: the cohort's plan moves by 30 days
    own = plan.own_due_dates(due, start, joined, exam)
    assert own == {"A": date(2026, 10, 11), "B": date(2026, 10, 31)}
    assert plan.due_this_week(own, set(), joined) == []  # nothing overdue on the day they join
    on_time = risk.RiskFacts(
        ready=False,
        done=frozenset(),
        due=due,
        failed_attempts={},
        last_activity=None,
        enrolled_at=datetime(2026, 9, 1, 9, tzinfo=UTC),
    )
    late = replace(on_time, due=own, enrolled_at=datetime(2026, 10, 1, 9, tzinfo=UTC))
    policy = risk.RiskPolicy()
    assert risk.risk_reasons(late, policy, joined) == []
    assert "Behind the study plan: 2 modules overdue (A, B)" in risk.risk_reasons(
        on_time, policy, joined + timedelta(days=1)
    )
    # on or before the start: the cohort's dates; no date moves past the exam, and someone
    # who joins after the exam has everything due the day they joined, never before
    assert plan.own_due_dates(due, start, start, exam) == due
    assert plan.own_due_dates(due, start, date(2026, 8, 20), exam) == due
    assert plan.own_due_dates(due, start, date(2026, 11, 10), exam) == {
        "A": date(2026, 11, 20),
        "B": exam,
    }
    assert plan.own_due_dates(due, start, date(2026, 12, 5), exam) == {
        "A": date(2026, 12, 5),
        "B": date(2026, 12, 5),
    }
    assert plan.own_due_dates(due, start, joined, None) == own


# --- at-risk flags -----------------------------------------------------------------------

ENROLLED = datetime(2026, 9, 1, 9, tzinfo=UTC)


def facts(**changes) -> risk.RiskFacts:
    base = {
        "ready": False,
        "done": frozenset({"A"}),
        "due": {"A": date(2026, 9, 5), "B": date(2026, 9, 10), "C": date(2026, 9, 30)},
        "failed_attempts": {},
        "last_activity": datetime(2026, 9, 18, tzinfo=UTC),
        "enrolled_at": ENROLLED,
    }
    return risk.RiskFacts(**{**base, **changes})


def test_each_risk_comes_with_its_reason():
    policy = risk.RiskPolicy(failed_attempts=3, inactivity_days=10)
    today = date(2026, 9, 20)
    assert risk.risk_reasons(facts(), policy, today) == [
        "Behind the study plan: 1 module overdue (B)"
    ]
    assert risk.risk_reasons(
        facts(done=frozenset({"A", "B"}), failed_attempts={"C": 3, "A": 5}), policy, today
    ) == ["3 failed attempts on C"]
    assert risk.risk_reasons(
        facts(done=frozenset({"A", "B"}), last_activity=datetime(2026, 9, 5, tzinfo=UTC)),
        policy,
        today,
    ) == ["No activity for 15 days"]
    assert risk.risk_reasons(
        facts(done=frozenset({"A", "B"}), last_activity=None), policy, today
    ) == ["No activity since enrolment (19 days)"]
    assert risk.risk_reasons(facts(ready=True, last_activity=None), policy, today) == []


def test_the_failed_attempt_limit_is_configurable():
    today = date(2026, 9, 20)
    f = facts(done=frozenset({"A", "B"}), failed_attempts={"C": 2})
    assert risk.risk_reasons(f, risk.RiskPolicy(failed_attempts=3), today) == []
    assert risk.risk_reasons(f, risk.RiskPolicy(failed_attempts=2), today) == [
        "2 failed attempts on C"
    ]


# --- overrides in the readiness engine ---------------------------------------------------

TREE = readiness.parse_requirements(
    {
        "type": "all_of",
        "children": [
            {"type": "module_completed", "module": "A", "min_score": 70},
            {"type": "evidence", "kind": "hs_diploma_or_ged"},
        ],
    }
)


def test_an_override_decides_a_leaf_before_the_facts():
    done = readiness.StudentFacts(
        modules={"A": readiness.ModuleFact(completed_score=90, completed_on=date(2026, 9, 2))},
        evidence={"hs_diploma_or_ged": "verified"},
    )
    assert readiness.evaluate(TREE, done, {}).met
    not_met = readiness.StudentFacts(
        modules=done.modules, evidence=done.evidence, overrides={"A": False}
    )
    outcome = readiness.evaluate(TREE, not_met, {"A": "Anatomy"})
    assert not outcome.met
    (leaf,) = outcome.unmet()
    assert leaf.overridden and leaf.explanation == "Anatomy (A): marked not met by your instructor"
    granted = readiness.StudentFacts(overrides={"A": True, "evidence:hs_diploma_or_ged": True})
    outcome = readiness.evaluate(TREE, granted, {})
    assert outcome.met and all(leaf.overridden for leaf in outcome.leaf_outcomes())
    assert readiness.leaf_key(TREE.children[1]) == "evidence:hs_diploma_or_ged"


# --- progress chart ----------------------------------------------------------------------


def test_the_chart_counts_completions_recorded_by_each_day():
    tree = readiness.parse_requirements(
        {
            "type": "all_of",
            "children": [
                {"type": "module_completed", "module": "A"},
                {"type": "module_completed", "module": "B"},
            ],
        }
    )
    fact = readiness.ModuleFact
    facts_by_student = {
        1: readiness.StudentFacts(
            modules={
                "A": fact(completed_score=80, completed_on=date(2026, 9, 3)),
                "B": fact(completed_score=80, completed_on=date(2026, 9, 10)),
            }
        ),
        2: readiness.StudentFacts(
            modules={"A": fact(completed_score=80, completed_on=date(2026, 9, 10))}
        ),
        3: readiness.StudentFacts(),
    }
    days = [date(2026, 9, 1), date(2026, 9, 5), date(2026, 9, 12)]
    points = chart.progress_series(tree, facts_by_student, days)
    assert [(p.share_ready, p.median_progress) for p in points] == [
        (0, 0),
        (0, 0),
        (1 / 3, 0.5),
    ]
    svg = chart.render_svg(points, "Day <class>")
    assert svg.startswith("<svg") and "Day &lt;class&gt;" in svg and "polyline" in svg
    assert "33% of students ready" in svg


def test_sample_days_are_at_least_a_week_apart_and_end_on_the_last_day():
    days = chart.sample_days(date(2026, 9, 1), date(2026, 9, 30))
    assert days[0] == date(2026, 9, 1) and days[-1] == date(2026, 9, 30)
    assert all((b - a).days >= 1 for a, b in zip(days, days[1:], strict=False))
    assert len(chart.sample_days(date(2026, 1, 1), date(2027, 1, 1))) <= 21
