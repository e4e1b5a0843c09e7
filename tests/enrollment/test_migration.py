"""The issue-5 migration upgrades a database that already holds cohorts and enrolments, and
downgrades it again, without tripping foreign keys (SQLite rebuilds tables otherwise)."""

from __future__ import annotations

from pathlib import Path

from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from tests.conftest import _app_for

BEFORE = "99f3feddbb97"


def test_upgrade_keeps_existing_enrolments_and_starts_their_history(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    app = _app_for(url)
    engine = create_engine(url)
    with app.app_context():
        upgrade(revision=BEFORE)
        with engine.begin() as connection:
            for statement in (
                "INSERT INTO credential (id, code, name, issuing_body, exam_format, eligibility,"
                " source_url) VALUES (1, 'CPC', 'Coder', 'AAPC', '', '', '')",
                "INSERT INTO user_account VALUES"
                " (1, 'i@x.org', 'Ina', 'instructor', NULL, 1, 0, '2026-01-01 00:00:00'),"
                " (2, 's@x.org', 'Sam', 'student', NULL, 1, 0, '2026-01-01 00:00:00')",
                "INSERT INTO cohort VALUES"
                " (1, 'Day', 1, '2026-01-01', NULL, '2026-01-01 00:00:00')",
                "INSERT INTO cohort_instructor VALUES (1, 1)",
                "INSERT INTO enrollment VALUES (1, 1, 2, 'active', '2026-01-02 00:00:00')",
            ):
                connection.execute(text(statement))
        upgrade()
        with engine.connect() as connection:
            events = connection.execute(
                text("SELECT enrollment_id, cohort_id, student_id, kind FROM enrollment_event")
            ).all()
            cohort = connection.execute(
                text("SELECT name, join_enabled, join_code, archived_at FROM cohort")
            ).one()
        assert events == [(1, 1, 2, "enrolled")]
        assert tuple(cohort) == ("Day", 0, None, None)
        downgrade(revision=BEFORE)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM enrollment")).scalar() == 1
        upgrade()
    engine.dispose()
