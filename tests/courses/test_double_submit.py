"""Two submissions of the same attempt at the same moment (a double click, two tabs): the
attempt is graded once, and both requests end on its result."""

import threading

from sqlalchemy import func, select

from lms.auth.models import Role
from lms.courses.attempts import sitting
from lms.courses.models import Attempt, AttemptQuestion, AttemptStatus, Choice
from lms.extensions import db
from lms.ledger.models import AuditEvent, LedgerEntry
from tests import factories
from tests.conftest import csrf_token, login


def test_concurrent_submissions_grade_once(app):
    factories.course("TERM", modules=1, questions=2)
    student = factories.user(Role.STUDENT)
    module = factories.module("TERM-1")
    clients = [app.test_client() for _ in range(2)]
    tokens = []
    for client in clients:
        login(client, student.email)
        tokens.append(csrf_token(client))
    rounds = 3
    statuses = []
    for _ in range(rounds):
        attempt = sitting.start_attempt(student, module.id, factories.NOW)
        db.session.commit()
        question_ids = db.session.scalars(
            select(AttemptQuestion.question_id).where(AttemptQuestion.attempt_id == attempt.id)
        ).all()
        form = {
            f"q-{q}": str(
                db.session.scalar(
                    select(Choice.id).where(Choice.question_id == q, Choice.is_correct)
                )
            )
            for q in question_ids
        }
        barrier = threading.Barrier(2)

        def submit(client, token, attempt_id=attempt.id, form=form, barrier=barrier):
            barrier.wait()
            response = client.post(
                f"/attempts/{attempt_id}/submit", data={**form, "csrf_token": token}
            )
            statuses.append((response.status_code, response.headers.get("Location")))

        db.session.commit()
        threads = [
            threading.Thread(target=submit, args=(c, t))
            for c, t in zip(clients, tokens, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    db.session.commit()
    assert all(status == 302 for status, _ in statuses), statuses
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Attempt)
            .where(Attempt.status == AttemptStatus.SUBMITTED)
        )
        == rounds
    )
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == rounds
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "attempt.graded")
        )
        == rounds
    )
