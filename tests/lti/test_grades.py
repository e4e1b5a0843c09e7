"""Grade passback: a completed linked module queues a score, sent (and retried) to the LMS."""

import json
from datetime import timedelta
from urllib.parse import parse_qs

import jwt
import pytest
import responses
from sqlalchemy import select

from lms.auth.models import Role
from lms.db import utcnow
from lms.extensions import db
from lms.ledger.models import AuditEvent
from lms.lti.models import LtiScoreOutbox, ScoreStatus
from lms.lti.service import grades as lti
from tests import factories
from tests.conftest import login, post_form
from tests.lti.conftest import CLIENT_ID, LINEITEM_URL, TOKEN_URL, launch

SCORES_URL = LINEITEM_URL + "/scores"


@pytest.fixture
def linked_student(client, platform):
    """A student launched from an LMS link to TERM-1, with a gradebook column."""
    factories.course("TERM", modules=2)
    launch(client, platform, module_code="TERM-1", sub="canvas-user-9", email="lee@school.edu")
    return factories.module("TERM-1")


def complete(client, module_code="TERM-1", right=None):
    module = factories.module(module_code)
    return post_form(
        client, f"/modules/{module.id}/quiz", factories.answer_form(module_code, right)
    )


def outbox():
    return db.session.scalars(select(LtiScoreOutbox).order_by(LtiScoreOutbox.id)).all()


def test_a_completion_queues_the_score_in_the_same_transaction(client, linked_student):
    assert complete(client, right=1).status_code in (200, 302)  # 1 of 3: a fail, no completion
    assert outbox() == []
    complete(client)
    (row,) = outbox()
    assert (row.subject, row.score, row.status, row.attempts) == (
        "canvas-user-9",
        100,
        ScoreStatus.PENDING,
        0,
    )
    # Another module, not linked from the LMS: nothing to send.
    complete(client, "TERM-2")
    assert len(outbox()) == 1


def test_failed_then_retried_send_reaches_the_gradebook(client, app, platform, linked_student):
    complete(client)
    platform.serve_token(status=500)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["lti", "send-scores"])
    assert "0 sent, 1 failed" in result.output
    (row,) = outbox()
    assert row.status is ScoreStatus.PENDING and row.attempts == 1
    assert "No access token from District Canvas" in row.last_error
    assert row.next_attempt_at > utcnow() + timedelta(seconds=30)  # backoff

    # Visible to admins, with the reason.
    admin = client.application.test_client()
    login(admin, factories.user(Role.ADMIN).email)
    page = admin.get("/admin/lti/scores").get_data(as_text=True)
    assert "Waiting (1)" in page and "No access token from District Canvas" in page
    assert "Lee Learner" in page

    # Not due yet: the CLI leaves it alone.
    platform.mock.remove(responses.POST, TOKEN_URL)
    platform.serve_token()
    platform.mock.add(responses.POST, SCORES_URL, status=200, json={})
    assert "0 sent, 0 failed" in runner.invoke(args=["lti", "send-scores"]).output

    # The admin sends it now; the platform accepts.
    response = post_form(admin, "/admin/lti/scores/send")
    assert response.status_code == 302
    (row,) = outbox()
    assert row.status is ScoreStatus.SENT and row.attempts == 2 and row.sent_at is not None
    assert row.last_error is None
    score_call = next(c for c in platform.mock.calls if c.request.url == SCORES_URL)
    assert score_call.request.headers["Authorization"] == "Bearer platform-token"
    assert score_call.request.headers["Content-Type"] == "application/vnd.ims.lis.v1.score+json"
    body = json.loads(score_call.request.body)
    assert body["userId"] == "canvas-user-9"
    assert (body["scoreGiven"], body["scoreMaximum"]) == (100, 100)
    assert (body["activityProgress"], body["gradingProgress"]) == ("Completed", "FullyGraded")
    page = admin.get("/admin/lti/scores").get_data(as_text=True)
    assert "No score is waiting." in page and "Recently sent" in page
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("lti.scores_sent") == 2

    # The client assertion is signed by the tool's key, for the platform's token URL.
    form = platform.tokens_issued[-1]
    assert form["grant_type"] == "client_credentials"
    assert form["scope"] == "https://purl.imsglobal.org/spec/lti-ags/scope/score"
    key_set = jwt.PyJWKSet.from_dict(client.get("/lti/jwks.json").get_json())
    kid = jwt.get_unverified_header(form["client_assertion"])["kid"]
    claims = jwt.decode(
        form["client_assertion"], key=key_set[kid], algorithms=["RS256"], audience=TOKEN_URL
    )
    assert claims["iss"] == claims["sub"] == CLIENT_ID


def test_a_refused_score_stays_queued_with_the_platform_reason(
    app, client, platform, linked_student
):
    complete(client)
    platform.serve_token()
    platform.mock.add(responses.POST, SCORES_URL, status=422, json={"errors": "bad user"})
    report = lti.send_due_scores(utcnow())
    db.session.commit()
    assert (report.sent, report.failed) == (0, 1)
    (row,) = outbox()
    assert row.status is ScoreStatus.PENDING and "422" in row.last_error
    # A later retry, when the platform is fixed, sends it.
    platform.mock.replace(responses.POST, SCORES_URL, status=200, json={})
    report = lti.send_due_scores(utcnow() + timedelta(minutes=2))
    db.session.commit()
    assert (report.sent, report.failed) == (1, 0)


def test_the_best_score_is_sent_again_after_a_worse_completion(client, platform):
    factories.course("TERM", modules=1, questions=4, passing=50)
    launch(client, platform, module_code="TERM-1")
    complete(client)
    complete(client, right=2)
    assert [row.score for row in outbox()] == [100, 100]


def test_a_student_who_never_launched_the_link_queues_nothing(app, platform):
    factories.course("TERM", modules=1)
    student = factories.user(Role.STUDENT)
    factories.pass_module(student, "TERM-1")
    assert outbox() == []


def test_students_and_instructors_cannot_see_or_send_scores(client):
    for role in (Role.STUDENT, Role.INSTRUCTOR):
        login(client, factories.user(role).email)
        assert client.get("/admin/lti/scores").status_code == 403
        assert post_form(client, "/admin/lti/scores/send").status_code == 403


def test_token_request_is_form_encoded(platform, client, linked_student):
    complete(client)
    platform.serve_token()
    platform.mock.add(responses.POST, SCORES_URL, status=200, json={})
    lti.send_due_scores(utcnow())
    db.session.commit()
    call = next(c for c in platform.mock.calls if c.request.url == TOKEN_URL)
    assert "client_assertion" in parse_qs(call.request.body)


def test_scores_are_sent_once_the_response_has_gone(client, platform, linked_student):
    platform.serve_token()
    platform.mock.add(responses.POST, SCORES_URL, status=200, json={})
    response = complete(client)
    assert outbox()[0].status is ScoreStatus.PENDING  # queued with the completion
    response.close()  # the server closes the response after sending it
    db.session.commit()  # end the test's read transaction to see what was sent
    (row,) = outbox()
    assert row.status is ScoreStatus.SENT and row.sent_at is not None


def test_a_failure_after_the_response_keeps_the_score_queued(client, platform, linked_student):
    platform.serve_token(status=503)
    complete(client).close()
    db.session.commit()  # end the test's read transaction to see what was sent
    (row,) = outbox()
    assert row.status is ScoreStatus.PENDING and row.attempts == 1
    assert "503" in row.last_error


def test_sending_after_the_response_can_be_turned_off(app, client, platform, linked_student):
    app.config["LTI_SEND_SCORES_AFTER_REQUEST"] = False
    complete(client).close()
    db.session.commit()  # end the test's read transaction to see what was sent
    (row,) = outbox()
    assert row.attempts == 0 and len(platform.mock.calls) == 1  # only the key set fetch


def test_the_scores_page_runs_the_same_queries_for_one_or_many_scores(app, client, platform):
    from tests.conftest import count_queries

    factories.course("TERM", modules=1)
    admin = app.test_client()
    login(admin, factories.user(Role.ADMIN).email)

    def queries():
        with count_queries() as statements:
            assert admin.get("/admin/lti/scores").status_code == 200
        return len(statements)

    app.config["LTI_SEND_SCORES_AFTER_REQUEST"] = False
    learner = app.test_client()
    launch(learner, platform, module_code="TERM-1", sub="s-0", email="s0@school.edu")
    complete(learner)
    one = queries()
    for n in range(1, 5):
        learner = app.test_client()
        launch(learner, platform, module_code="TERM-1", sub=f"s-{n}", email=f"s{n}@school.edu")
        complete(learner)
    assert len(outbox()) == 5
    assert queries() == one
