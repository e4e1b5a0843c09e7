"""Reading a module and taking its quiz, through the browser's requests."""

from sqlalchemy import func, select

from lms.auth.models import Role
from lms.courses.models import Attempt, AttemptAnswer, Lesson
from lms.extensions import db
from lms.ledger.models import LedgerEntry, LedgerKind
from tests import factories
from tests.conftest import login, post_form


def counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Attempt, AttemptAnswer, LedgerEntry)
    )


def setup_student(client):
    factories.course("TERM")
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    return student


def test_module_page_shows_lesson_quiz_and_navigation(client):
    setup_student(client)
    first, second = factories.module("TERM-1"), factories.module("TERM-2")
    page = client.get(f"/modules/{first.id}").get_data(as_text=True)
    assert "<h2>Lesson 1</h2>" in page  # under the page's own h1
    assert "<em>cardi/o</em>" in page
    assert "Start the quiz" in page and "3 questions." in page
    assert f'href="/modules/{second.id}"' in page
    second_page = client.get(f"/modules/{second.id}").get_data(as_text=True)
    assert f'href="/modules/{first.id}"' in second_page


def test_quiz_page_does_not_reveal_answers_or_rationales(client):
    setup_student(client)
    module = factories.module("TERM-1")
    page = client.get(f"/modules/{module.id}").get_data(as_text=True)
    assert "Because 1." not in page
    assert "correct" not in page.lower()


def test_lesson_markdown_is_sanitised(client):
    setup_student(client)
    module = factories.module("TERM-1")
    lesson = db.session.scalar(select(Lesson).where(Lesson.module_id == module.id))
    lesson.body_markdown = (
        "## Codes\n\n| Code | Meaning |\n|---|---|\n| S52 | Fracture of forearm |\n\n"
        '<script>alert("x")</script>\n\n[click](javascript:alert(1))\n\n'
        '![img](x.png "t")\n\n```\nS52.521A\n```\n'
    )
    db.session.commit()
    page = client.get(f"/modules/{module.id}").get_data(as_text=True)
    assert "<table>" in page and "<td>S52</td>" in page
    assert "<pre><code>S52.521A" in page
    assert "<script>alert" not in page
    assert 'href="javascript:' not in page


def test_passing_the_quiz_records_a_completion_in_the_ledger(client):
    student = setup_student(client)
    module = factories.module("TERM-1")
    response = post_form(client, f"/modules/{module.id}/quiz", factories.answer_form("TERM-1"))
    assert response.status_code == 302
    result = client.get(response.headers["Location"])
    text = result.get_data(as_text=True)
    assert "You passed with 100%." in text
    assert "Because 1." in text  # rationales are shown after the attempt

    attempt = db.session.scalar(select(Attempt))
    assert (attempt.student_id, attempt.score, attempt.passed) == (student.id, 100.0, True)
    entry = db.session.scalar(select(LedgerEntry))
    assert entry.kind is LedgerKind.MODULE_COMPLETED
    assert (entry.student_id, entry.module_id, entry.score) == (student.id, module.id, 100.0)
    assert (entry.source, entry.source_ref, entry.actor_id) == (
        "quiz",
        f"attempt:{attempt.id}",
        student.id,
    )
    assert entry.recorded_at.tzinfo is not None


def test_failing_the_quiz_records_the_attempt_but_no_completion(client):
    setup_student(client)
    module = factories.module("TERM-1")
    response = post_form(
        client, f"/modules/{module.id}/quiz", factories.answer_form("TERM-1", right=1)
    )
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You scored 33.3%." in result
    assert counts() == (1, 3, 0)


def test_answers_for_another_module_are_refused_and_change_nothing(client):
    setup_student(client)
    module = factories.module("TERM-1")
    before = counts()
    response = post_form(client, f"/modules/{module.id}/quiz", factories.answer_form("TERM-2"))
    assert response.status_code == 400
    assert "is not part of this quiz" in response.get_data(as_text=True)
    assert counts() == before


def test_unknown_choice_ids_are_refused_and_change_nothing(client):
    setup_student(client)
    module = factories.module("TERM-1")
    form = factories.answer_form("TERM-1")
    first = next(iter(form))
    form[first] = "999999"
    response = post_form(client, f"/modules/{module.id}/quiz", form)
    assert response.status_code == 400
    assert "does not belong to question" in response.get_data(as_text=True)
    assert counts() == (0, 0, 0)


def test_malformed_answers_are_refused(client):
    setup_student(client)
    module = factories.module("TERM-1")
    response = post_form(client, f"/modules/{module.id}/quiz", {"q-abc": "1"})
    assert response.status_code == 400
    assert counts() == (0, 0, 0)


def test_quiz_without_csrf_token_is_refused(client):
    setup_student(client)
    module = factories.module("TERM-1")
    response = client.post(f"/modules/{module.id}/quiz", data=factories.answer_form("TERM-1"))
    assert response.status_code == 400
    assert counts() == (0, 0, 0)


def test_unknown_module_is_404(client):
    setup_student(client)
    assert client.get("/modules/999999").status_code == 404
    assert post_form(client, "/modules/999999/quiz", {}).status_code == 404


def test_instructor_cannot_submit_quiz(client):
    factories.course("TERM")
    instructor = factories.user(Role.INSTRUCTOR)
    login(client, instructor.email)
    module = factories.module("TERM-1")
    assert client.get(f"/modules/{module.id}").status_code == 200
    response = post_form(client, f"/modules/{module.id}/quiz", factories.answer_form("TERM-1"))
    assert response.status_code == 403
    assert counts() == (0, 0, 0)


def test_another_students_attempt_is_not_found(app, client):
    student = setup_student(client)
    attempt = factories.pass_module(student, "TERM-1")
    assert client.get(f"/attempts/{attempt.id}").status_code == 200
    other = factories.user(Role.STUDENT)
    other_client = app.test_client()
    login(other_client, other.email)
    assert other_client.get(f"/attempts/{attempt.id}").status_code == 404


def test_course_list_shows_every_module(client):
    setup_student(client)
    page = client.get("/courses").get_data(as_text=True)
    assert "Module 1 of TERM" in page and "Module 2 of TERM" in page
