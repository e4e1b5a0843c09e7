"""Integrity under concurrency, against the real PostgreSQL server with real threads.

Each thread has its own app context, so its own database session and connection. SQLite
serialises writers with one database lock, so these races cannot happen there: the tests are
skipped on SQLite.
"""

import threading

import pytest
from sqlalchemy import func, select

from lms.auth import reset
from lms.auth.models import Role, User
from lms.auth.passwords import verify_password
from lms.credentials import service as credentials
from lms.credentials.models import Certificate, Credential
from lms.db import utcnow
from lms.errors import Conflict, InvalidInput
from lms.extensions import db
from lms.ledger.models import LedgerEntry, LedgerKind
from tests import factories
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="needs PostgreSQL (LMS_DATABASE_URL): SQLite lets only one writer in at a time",
)


def run_together(app, work, count=2):
    """Run ``work(index)`` in ``count`` threads released at the same moment; their results."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def target(index):
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results[index] = work(index)
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - reported to the test below
                db.session.rollback()
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.parametrize("attempt", range(3))
def test_two_simultaneous_issuances_make_one_certificate(app, attempt):
    factories.course("TERM", modules=1)
    factories.credential("CPC", modules=["TERM-1"])
    student = factories.user(Role.STUDENT)
    factories.pass_module(student, "TERM-1")  # ready, but not enrolled: nothing issued yet
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0
    student_id = student.id

    def issue(_index):
        person = db.session.get(User, student_id)
        credential = db.session.scalar(select(Credential).where(Credential.code == "CPC"))
        return credentials.issue_certificate(person, credential, None, utcnow()).code

    results = run_together(app, issue)
    issued = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(issued) == 1 and len(refused) == 1, results
    db.session.expire_all()
    assert db.session.scalars(select(Certificate.code)).all() == issued
    issued_entries = db.session.scalar(
        select(func.count())
        .select_from(LedgerEntry)
        .where(LedgerEntry.kind == LedgerKind.CERTIFICATE_ISSUED)
    )
    assert issued_entries == 1


def test_a_reset_link_used_twice_at_once_works_once(app):
    student = factories.user(Role.STUDENT)
    token = reset.request_reset(student.email, utcnow(), lambda t: t)
    db.session.commit()
    passwords = ["first new passphrase", "second new passphrase"]

    def use(index):
        return reset.reset_password(token, passwords[index], passwords[index], utcnow()).id

    results = run_together(app, use)
    worked = [i for i, r in enumerate(results) if r == student.id]
    refused = [r for r in results if isinstance(r, InvalidInput)]
    assert len(worked) == 1 and len(refused) == 1, results
    db.session.expire_all()
    stored = db.session.get(User, student.id).password_hash
    assert verify_password(stored, passwords[worked[0]])
    assert not verify_password(stored, passwords[1 - worked[0]])


@pytest.mark.parametrize("round_", range(2))
def test_simultaneous_submissions_of_a_one_attempt_quiz_make_one_attempt(app, round_):
    """Six quiz submissions at once (each starts an attempt and grades it) where one attempt
    is allowed: one is graded, the others are refused; the review never opens twice."""
    from lms.courses.attempts import sitting
    from lms.courses.models import Attempt, Quiz

    factories.course("TERM", modules=1)
    quiz = db.session.scalar(select(Quiz))
    quiz.max_attempts = 1
    db.session.commit()
    student = factories.user(Role.STUDENT)
    student_id, module_id = student.id, quiz.module_id

    def submit(_index):
        person = db.session.get(User, student_id)
        return sitting.submit_quiz(person, module_id, {}, utcnow()).id

    results = run_together(app, submit, count=6)
    graded = {r for r in results if isinstance(r, int)}
    assert len(graded) == 1, results
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, int)), results
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 1
