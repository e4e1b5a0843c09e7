"""The gradebook: students x quizzes for a cohort's instructors, each attempt question by
question, the CSV download (an audited export), and the student's own grades page."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.auth.models import Role
from lms.courses.attempts import sitting
from lms.courses.models import Attempt, ReviewPolicy
from lms.enrollment import service as enrollment
from lms.enrollment.progress import gradebook
from lms.extensions import db
from lms.ledger.models import AuditEvent
from lms.reports.models import ExportDisclosure, ExportRun
from tests import factories
from tests.conftest import count_queries, login
from tests.factories import NOW


def attempt(student, code, right=None, when=NOW):
    """The student submits the module's quiz with ``right`` answers right (all if None)."""
    made = sitting.submit_quiz(
        student, factories.module(code).id, factories.answers(code, right), when
    )
    db.session.commit()
    return made


@pytest.fixture
def school(app):
    """TERM (three modules) and OTHER (one); CPC asks for TERM-1 and TERM-2 only; a cohort
    of two students, a second cohort with a third student, and their instructors."""
    factories.course("TERM", modules=3)
    factories.course("OTHER", modules=1)
    credential = factories.credential("CPC", modules=["TERM-1", "TERM-2"])
    instructor = factories.user(Role.INSTRUCTOR)
    other_instructor = factories.user(Role.INSTRUCTOR)
    ada = factories.user(Role.STUDENT, name="Ada Abbott")
    ben = factories.user(Role.STUDENT, name="Ben Brook")
    cy = factories.user(Role.STUDENT, name="Cy Cole")
    cohort = factories.cohort(instructor, credential, [ada, ben], name="Day class")
    other = factories.cohort(other_instructor, credential, [cy], name="Night class")
    return {
        "cohort": cohort,
        "other": other,
        "instructor": instructor,
        "other_instructor": other_instructor,
        "ada": ada,
        "ben": ben,
        "cy": cy,
    }


def rows_of(page: str) -> dict[str, str]:
    """Each student's row of the gradebook table, by name."""
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", page, re.S)
    return {re.search(r">([^<]+)</a>", row).group(1): row for row in rows}


def test_the_gradebook_shows_each_students_best_score_and_attempts(client, school):
    ada = school["ada"]
    attempt(ada, "TERM-1", right=1, when=NOW - timedelta(days=2))
    attempt(ada, "TERM-1", when=NOW - timedelta(days=1))
    attempt(ada, "TERM-3", right=2)
    attempt(ada, "OTHER-1")  # not a course of the credential: no column
    attempt(school["cy"], "TERM-1")  # another cohort's student: no row
    login(client, school["instructor"].email)

    response = client.get(f"/cohorts/{school['cohort'].id}/gradebook")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    headings = re.findall(r'<th scope="col"><abbr[^>]*>([^<]+)</abbr>', page)
    assert headings == ["TERM-1", "TERM-2", "TERM-3"]  # every quiz of the course, in order
    rows = rows_of(page)
    assert list(rows) == ["Ada Abbott", "Ben Brook"]
    ada_cells = re.findall(r"<td class=\"cell[^\"]*\">(.*?)</td>", rows["Ada Abbott"], re.S)
    assert ">100%</a>" in ada_cells[0] and "2 attempts" in ada_cells[0]
    assert "cell-not_started" in rows["Ada Abbott"].split("<td")[2]  # TERM-2: none
    assert ">66.7%</a>" in ada_cells[2] and "1 attempt<" in ada_cells[2]
    assert "not passed" in ada_cells[2]
    assert rows["Ben Brook"].count("(no attempt)") == 3
    quiz_id = factories.module("TERM-1").quiz.id
    link = f"/cohorts/{school['cohort'].id}/gradebook/students/{ada.id}/quizzes/{quiz_id}"
    assert link in ada_cells[0]
    assert "Cy Cole" not in page and "OTHER-1" not in page


def test_a_students_attempts_and_each_attempt_question_by_question(client, school):
    ada, cohort = school["ada"], school["cohort"]
    first = attempt(ada, "TERM-1", right=1, when=NOW - timedelta(days=1))
    attempt(ada, "TERM-1")
    quiz = factories.module("TERM-1").quiz
    login(client, school["instructor"].email)

    listing = client.get(f"/cohorts/{cohort.id}/gradebook/students/{ada.id}/quizzes/{quiz.id}")

    assert listing.status_code == 200
    text = listing.get_data(as_text=True)
    assert "Attempt 1" in text and "Attempt 2" in text
    assert "33.3%" in text and "100%" in text
    assert text.count("<td>Not passed</td>") == 1 and text.count("<td>Passed</td>") == 1
    review_url = f"/cohorts/{cohort.id}/gradebook/attempts/{first.id}"
    assert review_url in text

    review = client.get(review_url)

    assert review.status_code == 200
    page = review.get_data(as_text=True)
    assert "33.3%" in page and "1 of 3 right" in page
    for number in (1, 2, 3):
        assert f"TERM module 1 question {number}?" in page  # every stem
    assert page.count("<strong>Right</strong>") == 1
    assert page.count("<strong>Wrong</strong>") == 2
    assert page.count("(correct answer)") == 3
    assert page.count("(the student's answer)") == 3
    # the two wrong picks are marked wrong, beside the key
    assert (
        len(re.findall(r'<li class="wrong">\s*Wrong (one|two)\s*<strong>\(the student', page)) == 2
    )
    assert "Because 1." in page  # the rationale


def test_the_instructor_sees_the_key_whatever_the_review_policy(client, school):
    ada, cohort = school["ada"], school["cohort"]
    module = factories.module("TERM-2")
    module.quiz.review_policy = ReviewPolicy.NEVER
    db.session.commit()
    made = attempt(ada, "TERM-2", right=2)

    login(client, school["instructor"].email)
    page = client.get(f"/cohorts/{cohort.id}/gradebook/attempts/{made.id}").get_data(as_text=True)
    assert page.count("(correct answer)") == 3

    client.get("/logout")
    login(client, ada.email)
    own = client.get(f"/attempts/{made.id}").get_data(as_text=True)
    assert "(correct answer)" not in own
    assert "The correct answers of this quiz are not shown." in own


def test_another_instructor_and_students_cannot_open_the_gradebook(client, school):
    cohort, ada = school["cohort"], school["ada"]
    made = attempt(ada, "TERM-1")
    quiz_id = made.quiz_id
    urls = [
        f"/cohorts/{cohort.id}/gradebook",
        f"/cohorts/{cohort.id}/gradebook/students/{ada.id}/quizzes/{quiz_id}",
        f"/cohorts/{cohort.id}/gradebook/attempts/{made.id}",
        f"/cohorts/{cohort.id}/gradebook.csv",
    ]
    login(client, school["other_instructor"].email)
    assert [client.get(url).status_code for url in urls] == [404, 404, 404, 404]
    client.get("/logout")
    login(client, ada.email)
    assert [client.get(url).status_code for url in urls] == [403, 403, 403, 403]
    assert db.session.scalar(select(func.count()).select_from(ExportRun)) == 0


def test_an_attempt_outside_the_cohort_or_its_courses_is_not_found(client, school):
    cohort = school["cohort"]
    cys = attempt(school["cy"], "TERM-1")  # a student of the other cohort
    adas_other = attempt(school["ada"], "OTHER-1")  # a quiz outside the credential's courses
    other_quiz = adas_other.quiz_id
    login(client, school["instructor"].email)
    base = f"/cohorts/{cohort.id}/gradebook"
    assert client.get(f"{base}/attempts/{cys.id}").status_code == 404
    assert client.get(f"{base}/attempts/{adas_other.id}").status_code == 404
    assert client.get(f"{base}/attempts/999999").status_code == 404
    assert client.get(f"{base}/students/{school['cy'].id}/quizzes/{cys.quiz_id}").status_code == 404
    assert client.get(f"{base}/students/{school['ada'].id}/quizzes/{other_quiz}").status_code == 404


def test_an_admin_opens_any_cohorts_gradebook(client, school):
    attempt(school["ada"], "TERM-1")
    login(client, factories.user(Role.ADMIN).email)
    page = client.get(f"/cohorts/{school['cohort'].id}/gradebook")
    assert page.status_code == 200 and "Ada Abbott" in page.get_data(as_text=True)


def test_a_withdrawn_student_leaves_the_gradebook(client, school):
    cohort, instructor = school["cohort"], school["instructor"]
    attempt(school["ben"], "TERM-1")
    enrollment.withdraw_student(
        instructor, enrollment.get_cohort_for(instructor, cohort.id), school["ben"], NOW
    )
    db.session.commit()
    login(client, instructor.email)
    page = client.get(f"/cohorts/{cohort.id}/gradebook").get_data(as_text=True)
    assert "Ada Abbott" in page and "Ben Brook" not in page


def test_the_csv_download_is_an_audited_export_with_formulas_neutralised(client, school):
    cohort, ada = school["cohort"], school["ada"]
    ada.full_name = '=HYPERLINK("http://evil.example","x")'
    db.session.commit()
    attempt(ada, "TERM-1", right=1, when=NOW - timedelta(days=1))
    attempt(ada, "TERM-1", right=2)
    login(client, school["instructor"].email)

    response = client.get(f"/cohorts/{cohort.id}/gradebook.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "student_id",
        "student_name",
        "student_email",
        "TERM-1 best score",
        "TERM-1 attempts",
        "TERM-2 best score",
        "TERM-2 attempts",
        "TERM-3 best score",
        "TERM-3 attempts",
    ]
    by_email = {row[2]: row for row in rows[1:]}
    assert set(by_email) == {ada.email, school["ben"].email}
    assert by_email[ada.email] == [
        str(ada.id),
        '\'=HYPERLINK("http://evil.example","x")',
        ada.email,
        "66.67",
        "2",
        "",
        "0",
        "",
        "0",
    ]
    run = db.session.scalar(select(ExportRun))
    assert (run.dataset, run.format, run.filters) == ("gradebook", "csv", {"cohort": cohort.id})
    assert run.row_count == 2 and run.byte_count == len(response.get_data())
    assert response.headers["X-Export-Id"] == str(run.id)
    disclosed = set(
        db.session.scalars(
            select(ExportDisclosure.student_id).where(ExportDisclosure.export_id == run.id)
        )
    )
    assert disclosed == {ada.id, school["ben"].id}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export.gradebook"))
    assert event.actor_id == school["instructor"].id and event.target_id == str(run.id)
    client.get("/logout")
    login(client, school["ben"].email)
    assert "gradebook" in client.get("/my/records/disclosures").get_data(as_text=True)


def test_the_gradebook_pages_through_a_big_cohort(app, client, school):
    cohort = school["cohort"]
    factories.many_students(cohort, 5)  # seven students, three a page
    app.config["GRADEBOOK_PAGE_SIZE"] = 3
    login(client, school["instructor"].email)
    first = client.get(f"/cohorts/{cohort.id}/gradebook").get_data(as_text=True)
    third = client.get(f"/cohorts/{cohort.id}/gradebook?page=3")
    assert len(rows_of(first)) == 3 and "Students 1–3 of 7" in first
    assert "Ada Abbott" in first
    assert third.status_code == 200 and len(rows_of(third.get_data(as_text=True))) == 1
    bad = client.get(f"/cohorts/{cohort.id}/gradebook?page=abc")
    assert bad.status_code == 400 and "is not a page number" in bad.get_data(as_text=True)
    past = client.get(f"/cohorts/{cohort.id}/gradebook?page=9")
    assert past.status_code == 404 and "There is no page 9" in past.get_data(as_text=True)


def test_the_gradebook_takes_the_same_queries_for_3_or_12_students(client, school):
    instructor = school["instructor"]
    cohort_ids = {}
    for size in (3, 12):
        cohort = factories.cohort(
            instructor, enrollment.get_cohort_for(instructor, school["cohort"].id).credential
        )
        students = factories.many_students(cohort, size)
        for student in students:
            attempt(student, "TERM-1", right=1)
            attempt(student, "TERM-2")
        cohort_ids[size] = cohort.id
    login(client, instructor.email)
    counts = {}
    for size, cohort_id in cohort_ids.items():
        db.session.expunge_all()
        with count_queries() as page_queries:
            page = client.get(f"/cohorts/{cohort_id}/gradebook")
        assert page.status_code == 200
        assert len(rows_of(page.get_data(as_text=True))) == size
        with count_queries() as csv_queries:
            download = client.get(f"/cohorts/{cohort_id}/gradebook.csv")
        assert len(download.get_data(as_text=True).strip().split("\r\n")) == size + 1
        counts[size] = (len(page_queries), len(csv_queries))
    assert counts[3] == counts[12], counts


def test_a_student_sees_only_their_own_grades(client, school):
    ada, ben = school["ada"], school["ben"]
    failed = attempt(ada, "TERM-1", right=1, when=NOW - timedelta(days=1))
    passed = attempt(ada, "TERM-1")
    bens = attempt(ben, "TERM-2")
    login(client, ada.email)

    response = client.get("/grades")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Module 1 of TERM" in page and "Module 2 of TERM" not in page
    assert f'href="/attempts/{failed.id}"' in page and f'href="/attempts/{passed.id}"' in page
    assert f'href="/attempts/{bens.id}"' not in page
    assert "33.3%" in page and "100%" in page
    assert "Not passed" in page and ">Passed<" in page
    assert "/grades" in client.get("/dashboard").get_data(as_text=True)
    assert client.get(f"/attempts/{bens.id}").status_code == 404


def test_grades_is_for_students(client, school):
    login(client, school["instructor"].email)
    assert client.get("/grades").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 0


def test_the_columns_are_the_quizzes_of_every_course_the_tree_names(app, school):
    tree = {
        "type": "all_of",
        "children": [
            {"type": "course_completed", "course": "OTHER"},
            {"type": "module_completed", "module": "TERM-2", "min_score": 70},
        ],
    }
    credential = factories.credential("CCA", tree=tree)
    cohort = factories.cohort(school["instructor"], credential)
    loaded = enrollment.get_cohort_for(school["instructor"], cohort.id)
    codes = [quiz.module_code for quiz in gradebook.gradebook_quizzes(loaded)]
    assert codes == ["OTHER-1", "TERM-1", "TERM-2", "TERM-3"]  # in the order first named
