"""The migration that numbers attempts (issue 20: the limit on attempts holds in the database)
numbers the attempts that exist in the order they were started, per student and quiz, makes
the number unique, and goes back down; on SQLite, or PostgreSQL in a schema of its own."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from lms.extensions import db
from tests.conftest import _app_for

REVISION = "4b94a9ef6e2c"
BEFORE = "1a8c1d3d9eab"

ROWS = [
    "INSERT INTO user_account (id, email, full_name, role, active, session_epoch, created_at) "
    "VALUES (1, 'a@example.org', 'A', 'student', true, 0, '2026-11-02 15:30:00'), "
    "(2, 'b@example.org', 'B', 'student', true, 0, '2026-11-02 15:30:00')",
    "INSERT INTO course (id, code, title, topic_area, description, sequential) "
    "VALUES (1, 'C', 'Course', 'coding', '', false)",
    "INSERT INTO module (id, course_id, code, position, title, estimated_minutes) "
    "VALUES (1, 1, 'C-1', 1, 'Module', 30), (2, 1, 'C-2', 2, 'Module 2', 30)",
    "INSERT INTO quiz (id, module_id, title, passing_score, blueprint, review_policy) "
    "VALUES (1, 1, 'Quiz', 70, '', 'after_attempt'), (2, 2, 'Quiz 2', 70, '', 'after_attempt')",
    # Student 1 at quiz 1: started at 10:00, 09:00, 11:00 (ids out of time order); student 2
    # at quiz 1 once; student 1 at quiz 2 once.
    "INSERT INTO attempt (id, quiz_id, student_id, status, started_at, closed_by_deadline) "
    "VALUES (1, 1, 1, 'submitted', '2026-11-02 10:00:00', false), "
    "(2, 1, 1, 'submitted', '2026-11-02 09:00:00', false), "
    "(3, 1, 1, 'in_progress', '2026-11-02 11:00:00', false), "
    "(4, 1, 2, 'submitted', '2026-11-02 09:30:00', false), "
    "(5, 2, 1, 'submitted', '2026-11-02 12:00:00', false)",
]


def test_existing_attempts_are_numbered_in_the_order_they_were_started(empty_database):
    app = _app_for(empty_database)
    with app.app_context():
        upgrade(revision=BEFORE)
        for statement in ROWS:
            db.session.execute(text(statement))
        db.session.commit()

        upgrade(revision=REVISION)
        numbers = db.session.execute(text("SELECT id, number FROM attempt ORDER BY id")).all()
        assert [tuple(row) for row in numbers] == [(1, 2), (2, 1), (3, 3), (4, 1), (5, 1)]
        with pytest.raises(IntegrityError):  # a second attempt 1 of student 1 at quiz 1
            db.session.execute(
                text(
                    "INSERT INTO attempt (id, quiz_id, student_id, number, status, started_at, "
                    "closed_by_deadline) VALUES (6, 1, 1, 1, 'in_progress', "
                    "'2026-11-03 09:00:00', false)"
                )
            )
        db.session.rollback()

        downgrade(revision=BEFORE)
        columns = db.session.execute(text("SELECT * FROM attempt")).keys()
        assert "number" not in columns
        assert db.session.execute(text("SELECT count(*) FROM attempt")).scalar() == 5
        db.session.remove()
        db.engine.dispose()
