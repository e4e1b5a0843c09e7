"""Code-entry questions written and edited in the bank's question form (issue 18): the case,
and the key as text, checked against the code sets when saved; the bank page shows both."""

from sqlalchemy import func, select

from lms.auth.models import Role
from lms.courses.attempts import sitting
from lms.courses.models import Question, QuestionKind, Quiz, QuizItem
from lms.courses.rules import code_entry
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import login, post_form
from tests.courses.test_bank_views import field_errors, new_bank

KEY = """[Diagnoses] icd10cm first
E11.621 ; the diabetic foot ulcer is sequenced first
L97.411
[Procedure] cpt any
11042 or 11043 ; by the deepest tissue removed
"""
CASE = "Office note. Type 2 diabetic with a right heel ulcer limited to skin breakdown..."
QUESTION = {
    "stem": "Code the diagnoses and the debridement.",
    "kind": "code_entry",
    "case": CASE,
    "boxes": KEY,
    "rationale": "Guideline I.C.4.a.",
    "content_area": "ICD-10-CM",
    "difficulty": "medium",
    "code_set_year": "2026",
    "tags": "CPC",
}


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_key_text_reads_and_writes_back():
    boxes, problems = code_entry.key_from_text(KEY)
    assert problems == []
    assert boxes[0] == {
        "label": "Diagnoses",
        "code_set": "icd10cm",
        "order": "first",
        "key": [["E11.621"], ["L97.411"]],
        "feedback": ["the diabetic foot ulcer is sequenced first", ""],
    }
    assert boxes[1]["key"] == [["11042", "11043"]] and boxes[1]["order"] == "any"
    read = [code_entry.box_problems(box, i)[0] for i, box in enumerate(boxes)]
    again, _ = code_entry.key_from_text(code_entry.key_text(read))
    assert again == boxes
    _, problems = code_entry.key_from_text("E11.9\n[Broken icd10cm")
    assert [p.message.split(":")[0] for p in problems] == ["Line 1", "Line 2"]


def test_an_author_writes_a_code_entry_question_and_the_bank_shows_its_case_and_key(client):
    login(client, factories.user(Role.ADMIN).email)
    bank = new_bank()
    response = post_form(client, f"/banks/{bank.id}/questions/new", QUESTION)
    assert response.status_code == 302
    question = db.session.scalar(select(Question))
    assert question.kind is QuestionKind.CODE_ENTRY and question.case_text == CASE
    assert question.code_boxes[0]["key"] == [["E11.621"], ["L97.411"]]
    assert question.code_release.startswith("icd10cm ")
    page = client.get(f"/banks/{bank.id}").get_data(as_text=True)
    assert CASE in page and "E11.621; L97.411" in page and "11042 or 11043" in page
    form = client.get(f"/questions/{question.id}/edit").get_data(as_text=True)
    assert "E11.621 ; the diabetic foot ulcer is sequenced first" in form


def test_a_key_naming_a_code_that_does_not_exist_or_a_case_with_html_is_refused(client):
    login(client, factories.user(Role.ADMIN).email)
    bank = new_bank()
    before = (_count(Question), _count(AuditEvent))
    bad = {**QUESTION, "boxes": KEY.replace("L97.411", "L97.4"), "case": "<b>Note</b>"}
    response = post_form(client, f"/banks/{bank.id}/questions/new", bad)
    assert response.status_code == 400
    errors = field_errors(response.get_data(as_text=True))
    assert "L97.4" in errors["boxes"] and "HTML" in errors["case"]
    unreadable = {**QUESTION, "boxes": "E11.9"}
    response = post_form(client, f"/banks/{bank.id}/questions/new", unreadable)
    assert response.status_code == 400
    assert "start with a box line" in field_errors(response.get_data(as_text=True))["boxes"]
    assert (_count(Question), _count(AuditEvent)) == before


def test_editing_a_code_entry_question_students_have_seen_makes_a_new_version(client):
    factories.course("TERM", questions=1)
    login(client, factories.user(Role.ADMIN).email)
    quiz = db.session.scalar(select(Quiz).where(Quiz.module_id == factories.module("TERM-1").id))
    question_id = db.session.scalar(select(QuizItem.question_id).where(QuizItem.quiz_id == quiz.id))
    # unseen: it becomes a code-entry question in place
    response = post_form(client, f"/questions/{question_id}/edit", QUESTION)
    assert response.status_code == 302
    question = db.session.get(Question, question_id)
    db.session.refresh(question)
    assert question.kind is QuestionKind.CODE_ENTRY and question.version == 1
    sitting.start_attempt(factories.user(Role.STUDENT), quiz.module_id, factories.NOW)
    db.session.commit()
    changed = {**QUESTION, "boxes": KEY.replace("11042 or 11043", "11042")}
    assert post_form(client, f"/questions/{question_id}/edit", changed).status_code == 302
    db.session.refresh(question)
    newer = db.session.scalar(
        select(Question).where(Question.family_id == question.family_id, Question.version == 2)
    )
    assert question.retired_at is not None and newer.code_boxes[1]["key"] == [["11042"]]
    assert (
        db.session.scalar(select(QuizItem.question_id).where(QuizItem.quiz_id == quiz.id))
        == newer.id
    )
