"""The migration that types three comma-separated columns (a question's tags, an attempt's
choice order, the choices picked) converts rows that exist, up and down, on the database
the suite runs on: SQLite, or PostgreSQL (in a schema of its own in the test database)."""

from __future__ import annotations

import json

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text, update

from lms.courses.models import AttemptAnswer, AttemptQuestion, Question
from lms.extensions import db
from tests.conftest import database_at

REVISION = "1a8c1d3d9eab"
BEFORE = "62c4e512af97"

OLD_ROWS = [
    "INSERT INTO user_account (id, email, full_name, role, active, session_epoch, created_at) "
    "VALUES (1, 's@example.org', 'S', 'student', true, 0, '2026-11-02 15:30:00')",
    "INSERT INTO course (id, code, title, topic_area, description, sequential) "
    "VALUES (1, 'C', 'Course', 'coding', '', false)",
    "INSERT INTO module (id, course_id, code, position, title, estimated_minutes) "
    "VALUES (1, 1, 'C-1', 1, 'Module', 30)",
    "INSERT INTO question_bank (id, name) VALUES (1, 'Bank')",
    "INSERT INTO question (id, bank_id, stem, rationale, tags, kind, content_area, difficulty, "
    "version) VALUES "
    "(1, 1, 'Q1?', '', 'ICD-10-CM, hard ,, 2026', 'single', 'Coding', '', 1), "
    "(2, 1, 'Q2?', '', '', 'single', '', '', 1)",
    "INSERT INTO choice (id, question_id, position, text, is_correct) VALUES "
    "(11, 1, 0, 'A', true), (12, 1, 1, 'B', false), (13, 1, 2, 'C', false), "
    "(21, 2, 0, 'A', true), (22, 2, 1, 'B', false)",
    "INSERT INTO quiz (id, module_id, title, passing_score, blueprint, review_policy) "
    "VALUES (1, 1, 'Quiz', 70, '', 'after_attempt')",
    "INSERT INTO attempt (id, quiz_id, student_id, status, started_at, closed_by_deadline) "
    "VALUES (1, 1, 1, 'in_progress', '2026-11-02 15:30:00', false)",
    "INSERT INTO attempt_question (id, attempt_id, question_id, position, choice_order) VALUES "
    "(1, 1, 1, 1, '13,11,12'), (2, 1, 2, 2, '21,22')",
    "INSERT INTO attempt_answer (id, attempt_id, question_id, choice_id, choice_ids, is_correct) "
    "VALUES (1, 1, 1, 11, '11,13', false), (2, 1, 2, NULL, '', false)",
]

READ_BACK = {
    "tags": "SELECT tags FROM question ORDER BY id",
    "choice_order": "SELECT choice_order FROM attempt_question ORDER BY id",
    "choice_ids": "SELECT choice_ids FROM attempt_answer ORDER BY id",
}
OLD_VALUES = {
    "tags": ["ICD-10-CM, hard ,, 2026", ""],
    "choice_order": ["13,11,12", "21,22"],
    "choice_ids": ["11,13", ""],
}


def read_back(typed: bool) -> dict[str, list]:
    """The three columns as stored, read without the models (typed: PostgreSQL hands arrays
    and JSON over as lists; SQLite keeps JSON text)."""
    values = {}
    for column, query in READ_BACK.items():
        rows = db.session.execute(text(query)).scalars().all()
        if typed and db.engine.dialect.name == "sqlite":
            rows = [json.loads(row) for row in rows]
        values[column] = rows
    return values


def test_the_migration_converts_rows_up_and_down(empty_database):
    with database_at(empty_database, BEFORE, OLD_ROWS):
        upgrade(revision=REVISION)
        assert read_back(typed=True) == {
            "tags": [["ICD-10-CM", "hard", "2026"], []],
            "choice_order": [[13, 11, 12], [21, 22]],
            "choice_ids": [[11, 13], []],
        }
        # the models read them as lists too, and write them the same way
        # (the columns alone: the models have columns this revision does not have yet)
        tags = select(Question.tags).where(Question.id == 1)
        assert db.session.scalar(tags) == ["ICD-10-CM", "hard", "2026"]
        order = select(AttemptQuestion.choice_order).where(AttemptQuestion.id == 1)
        assert db.session.scalar(order) == [13, 11, 12]
        picked = select(AttemptAnswer.choice_ids).where(AttemptAnswer.id == 2)
        assert db.session.scalar(picked) == []
        db.session.execute(
            update(AttemptAnswer).where(AttemptAnswer.id == 2).values(choice_ids=[21, 22])
        )
        db.session.commit()

        downgrade(revision=BEFORE)
        expected = {**OLD_VALUES, "choice_ids": ["11,13", "21,22"]}
        # the tags come back tidied: trimmed, no empty tag, joined as the app joined them
        expected["tags"] = ["ICD-10-CM, hard, 2026", ""]
        assert read_back(typed=False) == expected
