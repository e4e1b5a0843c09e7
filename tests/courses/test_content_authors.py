"""Only content authors change the school's content (issue 20 item 4): an admin, or an
instructor an admin named an author. Other instructors read banks and quizzes; every change
is in the audit log with what it was before."""

from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.courses import blueprints
from lms.courses.models import Course, Question, QuestionBank, Quiz
from lms.courses.rules import drawing
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import login, post_form
from tests.courses.builders import practice_exam

SETTINGS = {"passing_score": "0", "review_policy": "after_attempt", "max_attempts": "9"}
QUESTION = {
    "stem": "Which code set reports inpatient procedures?",
    "kind": "single",
    "choices": "* ICD-10-PCS\nCPT\nHCPCS Level II",
    "rationale": "Hospitals report inpatient procedures in ICD-10-PCS.",
}


def _quiz_row(quiz_id: int):
    quiz = db.session.get(Quiz, quiz_id)
    db.session.refresh(quiz)
    return (quiz.passing_score, quiz.max_attempts, quiz.review_policy.value)


def test_an_instructor_who_is_not_an_author_reads_but_cannot_change_a_quiz(client):
    practice_exam(per_area=2, draw=2, minutes=None)
    quiz = db.session.scalar(select(Quiz))
    bank = db.session.scalar(select(QuestionBank))
    before = _quiz_row(quiz.id)
    questions = db.session.scalar(select(func.count()).select_from(Question))
    login(client, factories.user(Role.INSTRUCTOR).email)

    module_page = client.get(f"/modules/{quiz.module_id}").get_data(as_text=True)
    assert "Item analysis" in module_page and "Quiz settings" not in module_page
    assert "Only the school’s content authors change a quiz." in module_page
    bank_page = client.get(f"/banks/{bank.id}").get_data(as_text=True)
    assert "New question" not in bank_page and "Retire" not in bank_page

    assert client.get(f"/quizzes/{quiz.id}/settings").status_code == 403
    response = post_form(client, f"/quizzes/{quiz.id}/settings", SETTINGS)
    assert response.status_code == 403
    assert "ask an admin to name you an author" in response.get_data(as_text=True)
    assert post_form(client, f"/banks/{bank.id}/questions/new", QUESTION).status_code == 403
    question_id = db.session.scalar(select(Question.id))
    assert post_form(client, f"/questions/{question_id}/retire", {}).status_code == 403
    course_id = db.session.scalar(select(Course.id))
    assert (
        post_form(client, f"/courses/{course_id}/sequential", {"sequential": "on"}).status_code
        == 403
    )

    assert _quiz_row(quiz.id) == before
    assert db.session.scalar(select(func.count()).select_from(Question)) == questions
    assert db.session.get(Question, question_id).retired_at is None
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action.in_(
                    ["quiz.settings_changed", "question.created", "question.retired"]
                )
            )
        )
        == 0
    )


def test_an_admin_names_an_author_who_then_changes_the_quiz_with_an_audited_before_and_after(
    app, client
):
    practice_exam(per_area=2, draw=2, minutes=None)
    quiz = db.session.scalar(select(Quiz))
    old_score, old_attempts, old_policy = _quiz_row(quiz.id)
    instructor = factories.user(Role.INSTRUCTOR)
    admin = factories.user(Role.ADMIN)
    admin_client = app.test_client()
    login(admin_client, admin.email)
    listing = admin_client.get("/admin/users?role=instructor").get_data(as_text=True)
    assert "Name author" in listing

    response = post_form(admin_client, f"/admin/users/{instructor.id}/author", {"author": "1"})
    assert response.status_code == 302
    assert db.session.get(User, instructor.id).content_author
    named = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.author_named"))
    assert (named.actor_id, named.target_id) == (admin.id, str(instructor.id))

    login(client, instructor.email)
    changed = {
        "passing_score": "80",
        "review_policy": old_policy,
        "max_attempts": "2",
        "preset": "",
        "bank_id": str(quiz.bank_id),
        "blueprint": drawing.blueprint_text(blueprints.blueprint_rows(quiz)),
    }
    assert post_form(client, f"/quizzes/{quiz.id}/settings", changed).status_code == 302
    assert _quiz_row(quiz.id) == (80, 2, old_policy)
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "quiz.settings_changed")
    )
    assert event.actor_id == instructor.id and event.target_id == str(quiz.id)
    assert event.details["changed"] == {
        "passing_score": [old_score, 80],
        "max_attempts": [old_attempts, 2],
    }

    # Withdrawn: the instructor is back to reading.
    post_form(admin_client, f"/admin/users/{instructor.id}/author", {"author": "0"})
    assert post_form(client, f"/quizzes/{quiz.id}/settings", SETTINGS).status_code == 403
    assert _quiz_row(quiz.id) == (80, 2, old_policy)


def test_only_an_instructor_is_named_an_author(app, client):
    student = factories.user(Role.STUDENT)
    login(client, factories.user(Role.ADMIN).email)
    response = post_form(client, f"/admin/users/{student.id}/author", {"author": "1"})
    assert response.status_code == 409
    assert "Only an instructor is named an author" in response.get_data(as_text=True)
    assert not db.session.get(User, student.id).content_author
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action.like("user.author%"))
        )
        == 0
    )
