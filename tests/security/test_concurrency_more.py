"""More integrity under concurrency on the real PostgreSQL server: two roster imports at once.

Two browsers of the instructor (two tabs, a double click on "Enrol all") confirm the same
previewed roster at the same moment, each request in its own thread through the real app, so
each has its own database session and connection. SQLite serialises writers with one database
lock, so the race cannot happen there: skipped on SQLite.

Two simultaneous submissions of the same attempt are covered by
tests/courses/test_double_submit.py (real threads through the web, on both databases).
"""

import re
import threading

import pytest
from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.enrollment.models import Enrollment, Invitation
from lms.extensions import db
from lms.ledger.models import AuditEvent
from tests import factories
from tests.conftest import ON_POSTGRES, login, post_form
from tests.enrollment.test_roster import roster_csv, upload

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="needs PostgreSQL (LMS_DATABASE_URL): SQLite lets only one writer in at a time",
)

TOKEN = re.compile(r'name="token" type="hidden" value="([^"]+)"')
NEW = ["new.one@example.org", "new.two@example.org"]


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.parametrize("attempt", range(3))
def test_two_simultaneous_imports_of_one_roster_enrol_each_student_once(app, attempt):
    factories.course("TERM", modules=1)
    credential = factories.credential("CPC", modules=["TERM-1"])
    instructor = factories.user(Role.INSTRUCTOR)
    known = factories.user(Role.STUDENT, email="known.student@example.org")
    cohort = factories.cohort(instructor, credential)
    db.session.commit()
    users_before = count(User)
    # An existing account and two people who have none yet: both imports would create the
    # same two accounts and the same three enrolments.
    data = roster_csv(
        [
            (known.email, "Known", "Student", "S-1"),
            (NEW[0], "Nadia", "Okafor", "S-2"),
            (NEW[1], "Tomas", "Reyes", "S-3"),
        ]
    )
    clients, tokens = [], []
    for _ in range(2):
        client = app.test_client()
        login(client, instructor.email)
        preview = upload(client, cohort.id, data)
        assert preview.status_code == 200
        clients.append(client)
        tokens.append(TOKEN.search(preview.get_data(as_text=True)).group(1))
    cohort_id = cohort.id
    db.session.commit()
    barrier = threading.Barrier(2)
    statuses: list = [None, None]

    def confirm(index):
        barrier.wait(timeout=10)
        response = post_form(
            clients[index], f"/cohorts/{cohort_id}/roster/confirm", {"token": tokens[index]}
        )
        statuses[index] = response.status_code

    threads = [threading.Thread(target=confirm, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    # One import goes through; the other is told the roster changed (409) and writes nothing.
    assert sorted(statuses) == [302, 409], statuses
    db.session.expire_all()
    assert count(User) == users_before + 2
    for email in NEW:
        assert count(User, func.lower(User.email) == email) == 1
    assert count(Invitation) == 2
    assert count(Enrollment, Enrollment.cohort_id == cohort_id) == 3
    assert count(AuditEvent, AuditEvent.action == "roster.imported") == 1


@pytest.mark.parametrize("attempt", range(3))
def test_two_cohorts_importing_the_same_new_people_at_once_create_them_once(app, attempt):
    factories.course("TERM", modules=1)
    credential = factories.credential("CPC", modules=["TERM-1"])
    instructor = factories.user(Role.INSTRUCTOR)
    cohorts = [factories.cohort(instructor, credential) for _ in range(2)]
    db.session.commit()
    users_before = count(User)
    data = roster_csv([(NEW[0], "Nadia", "Okafor", "S-2"), (NEW[1], "Tomas", "Reyes", "S-3")])
    clients, tokens = [], []
    for cohort in cohorts:
        client = app.test_client()
        login(client, instructor.email)
        preview = upload(client, cohort.id, data)
        assert preview.status_code == 200
        clients.append(client)
        tokens.append(TOKEN.search(preview.get_data(as_text=True)).group(1))
    cohort_ids = [cohort.id for cohort in cohorts]
    db.session.commit()
    barrier = threading.Barrier(2)
    responses: list = [None, None]

    def confirm(index):
        barrier.wait(timeout=10)
        responses[index] = post_form(
            clients[index], f"/cohorts/{cohort_ids[index]}/roster/confirm", {"token": tokens[index]}
        )

    threads = [threading.Thread(target=confirm, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    statuses = sorted(response.status_code for response in responses)
    # Racing, the second import hits the unique email and is refused whole (409); if it ran
    # just after the first, it finds the accounts and enrols them too. Never a server error,
    # never a person twice.
    assert statuses in ([302, 409], [302, 302]), statuses
    imports = statuses.count(302)
    for response in responses:
        if response.status_code == 409:
            assert "nobody was enrolled" in response.get_data(as_text=True)
    db.session.expire_all()
    assert count(User) == users_before + 2
    for email in NEW:
        assert count(User, func.lower(User.email) == email) == 1
    assert count(Invitation) == 2
    assert count(Enrollment) == 2 * imports
    assert count(AuditEvent, AuditEvent.action == "roster.imported") == imports
