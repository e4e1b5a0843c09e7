"""The demo course files: every question well formed, the practice exam drawable."""

import tomllib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.auth.models import Role
from lms.courses import catalogue, content
from lms.courses.attempts import sitting
from lms.courses.models import AttemptQuestion
from lms.courses.rules import drawing
from lms.courses.rules.questions import DraftQuestion, question_problems
from lms.demo.seed import CONTENT_DIR, COURSE_FILES
from lms.extensions import db
from tests import factories


def load(name):
    with (CONTENT_DIR / name).open("rb") as handle:
        return tomllib.load(handle)


def drafts(data):
    questions = list(data.get("bank", []))
    for module in data["modules"]:
        questions += module.get("questions", [])
    for q in questions:
        if q.get("kind") == "code_entry":
            continue  # checked against the code sets in tests/demo/
        correct = q["correct"] if isinstance(q["correct"], list) else [q["correct"]]
        kind = q.get("kind") or ("multiple" if isinstance(q["correct"], list) else "single")
        yield DraftQuestion(
            stem=q["stem"],
            kind=kind,
            choices=tuple((text, i in correct) for i, text in enumerate(q["choices"])),
            rationale=q.get("rationale", ""),
            difficulty=q.get("difficulty", ""),
            code_set_year=q.get("code_set_year"),
        )


@pytest.mark.parametrize("name", COURSE_FILES)
def test_every_demo_question_is_well_formed_and_explained(name):
    for draft in drafts(load(name)):
        assert question_problems(draft) == [], draft.stem
        assert draft.rationale, draft.stem


@pytest.mark.parametrize("name", ["anatomy-physiology.toml", "billing-reimbursement.toml"])
def test_new_courses_have_three_modules_of_six_questions(name):
    data = load(name)
    assert [len(m["questions"]) for m in data["modules"]] == [6, 6, 6]
    assert all(m["lesson"].startswith("# ") for m in data["modules"])


def test_the_practice_exam_bank_covers_its_blueprint():
    data = load("practice-exams.toml")
    assert len(data["bank"]) >= 60
    (module,) = [m for m in data["modules"] if m["code"] == "CPC-PRACTICE-1"]
    pool = [
        drawing.PoolQuestion(i, frozenset({q["content_area"]})) for i, q in enumerate(data["bank"])
    ]
    rows = drawing.parse_blueprint(module["blueprint"])
    total = sum(row.count for row in rows)
    # the CPC pace: 240 minutes for 100 questions
    assert module["time_limit_minutes"] == round(total * 2.4)
    for row in rows:
        assert sum(1 for p in pool if row.tag in p.labels) >= row.count + 2, row.tag


def test_a_student_can_sit_the_demo_practice_exam(app):
    content.create_course(load("practice-exams.toml"))
    db.session.commit()
    student = factories.user(Role.STUDENT)
    module = catalogue.modules_by_code(["CPC-PRACTICE-1"])["CPC-PRACTICE-1"]
    attempt = sitting.start_attempt(student, module.id, factories.NOW)
    db.session.commit()
    assert attempt.deadline_at == factories.NOW + timedelta(minutes=101)
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AttemptQuestion)
            .where(AttemptQuestion.attempt_id == attempt.id)
        )
        == 42
    )


@pytest.mark.parametrize("module_code", ["CPB-PRACTICE-1", "CCA-PRACTICE-1"])
def test_a_full_length_practice_exam_can_be_sat_twice_without_a_repeat(module_code):
    """The CPB (135) and CCA (105) practice exams draw by the exam's own areas; the bank holds
    at least twice each area's count, so two sittings can differ in every question."""
    from lms.courses.rules.quizzes import PRESETS
    from lms.demo.seed import course_data

    data = course_data("practice-exams.toml")
    (module,) = [m for m in data["modules"] if m["code"] == module_code]
    preset = PRESETS[module["preset"]]
    assert sum(row["count"] for row in module["blueprint"]) == preset.questions
    assert module["time_limit_minutes"] == preset.minutes
    labelled = [{q.get("content_area", ""), *q.get("tags", [])} for q in data["bank"]]
    for row in module["blueprint"]:
        carrying = sum(1 for labels in labelled if row["tag"] in labels)
        assert carrying >= 2 * row["count"], (row, carrying)
