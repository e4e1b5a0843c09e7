"""Mail reaches a real SMTP server (aiosmtpd on a free port of 127.0.0.1), only after the
request's commit, once, and is retried with backoff when the server is down."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import threading
import uuid
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
import redis
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from flask import Flask
from sqlalchemy import func, select

from lms.auth.models import Role
from lms.db import utcnow
from lms.errors import InvalidInput
from lms.extensions import db
from lms.mail import cli as mail_cli
from lms.mail import delivery, send_mail
from lms.mail.models import OutgoingMail
from tests import factories
from tests.conftest import login, post_form

REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RESET_LINK = re.compile(r"http://localhost(/password/reset/[\w-]{40,})\r?\n")


class Inbox:
    """What the SMTP server received, parsed; ``delay`` slows each message down."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.delay = 0.0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, inbox


@pytest.fixture
def smtp_port(app: Flask) -> int:
    """The app sends over SMTP to a port of 127.0.0.1 where nothing listens yet."""
    port = free_port()
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_DEFAULT_SENDER="Demo School <office@school.example>",
    )
    return port


@pytest.fixture
def inbox(smtp_port: int):
    """A real SMTP server on that port."""
    controller, received = start_server(smtp_port)
    yield received
    controller.stop()


def rows() -> list[OutgoingMail]:
    return list(db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))


def test_a_reset_request_is_mailed_once_the_response_is_written(app, client, inbox):
    app.config["MAIL_DELIVERY"] = "after_response"  # as in production
    student = factories.user(Role.STUDENT, email="pat@school.example", name="Pat Doe")
    response = post_form(client, "/password/forgot", {"email": student.email})
    assert response.status_code == 302
    (row,) = rows()
    assert row.kind == "password_reset" and row.sent_at is None  # committed, not yet sent
    assert inbox.messages == []

    response.close()  # the server has written the response: the mail goes now

    (message,) = inbox.messages
    assert message["To"] == "pat@school.example"
    assert message["From"] == "Demo School <office@school.example>"
    assert message["Subject"] == "Reset your password"
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None and plain.get_content_type() == "text/plain"
    text = plain.get_content()
    assert text.startswith("Hello Pat Doe,")
    link = RESET_LINK.search(text).group(1)
    page = client.get(link)
    assert page.status_code == 200 and "new password" in page.get_data(as_text=True).lower()
    db.session.commit()  # a fresh snapshot: what the senders wrote
    (row,) = rows()
    assert row.sent_at is not None and row.attempts == 0 and row.claimed_until is None


def test_under_the_development_server_the_mail_goes_once_the_body_is_written(app, client, inbox):
    """Werkzeug's server skips ``close()`` when the browser resets the connection after a
    redirect; the mail then goes as soon as the last chunk of the body is handed over."""
    app.config["MAIL_DELIVERY"] = "after_response"
    student = factories.user(Role.STUDENT, email="pat@school.example", name="Pat Doe")
    response = post_form(
        client,
        "/password/forgot",
        {"email": student.email},
        environ_base={"SERVER_SOFTWARE": "Werkzeug/3.1.3 Python/3.11.7"},
    )
    assert response.status_code == 302  # the test client read the body and did not close it

    (message,) = inbox.messages
    assert message["To"] == "pat@school.example"
    response.close()  # a server that does call close() sends nothing twice
    db.session.commit()
    (row,) = rows()
    assert row.sent_at is not None and len(inbox.messages) == 1


def test_a_refused_request_sends_nothing(app, client, inbox):
    @app.post("/test/mail-then-refuse")
    def mail_then_refuse():
        send_mail("someone@school.example", "Never", "This is rolled back.", now=utcnow())
        raise InvalidInput("Refused after writing the mail.")

    mail_then_refuse.access_rule = "public"
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/test/mail-then-refuse")
    assert response.status_code == 400
    response.close()
    assert rows() == []
    assert inbox.messages == []
    assert "0 sent" in app.test_cli_runner().invoke(args=["send-mail"]).output
    assert inbox.messages == []


def test_mail_waits_while_the_server_is_down_then_send_mail_delivers_it(
    app, client, smtp_port, monkeypatch
):
    student = factories.user(Role.STUDENT)
    assert post_form(client, "/password/forgot", {"email": student.email}).status_code == 302
    (row,) = rows()
    assert row.sent_at is None and row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error
    tried_at = row.next_attempt_at - timedelta(minutes=1)  # the first backoff
    assert row.created_at <= tried_at <= utcnow()
    assert row.claimed_until is None and row.failed_at is None

    controller, inbox = start_server(smtp_port)
    try:
        runner = app.test_cli_runner()
        result = runner.invoke(args=["send-mail"])
        assert result.output.strip().startswith("0 sent")  # not due yet: the backoff holds
        assert inbox.messages == []

        later = utcnow() + timedelta(minutes=2)
        monkeypatch.setattr(mail_cli, "utcnow", lambda: later)
        result = runner.invoke(args=["send-mail"])
        assert result.output.strip() == "1 sent, 0 failed (to be tried again later)."
        (message,) = inbox.messages
        assert message["To"] == student.email
        assert "/password/reset/" in message.get_body(preferencelist=("plain",)).get_content()
        db.session.commit()  # a fresh snapshot: what the senders wrote
        (row,) = rows()
        assert row.sent_at == later and row.attempts == 1

        assert runner.invoke(args=["send-mail"]).output.startswith("0 sent")  # never twice
        assert len(inbox.messages) == 1
    finally:
        controller.stop()


def test_two_senders_at_once_send_a_message_once(app, inbox):
    send_mail("both@school.example", "Once", "Only one of you sends this.", now=utcnow())
    db.session.commit()
    (row,) = rows()
    inbox.delay = 0.5  # the first sender is still talking to the server when the second tries
    start = threading.Barrier(2)
    outcomes = []

    def sender():
        with app.app_context():
            start.wait()
            outcomes.append(delivery.deliver([row.id], utcnow()))

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(inbox.messages) == 1
    assert sorted(outcome.sent for outcome in outcomes) == [0, 1]
    db.session.commit()  # a fresh snapshot: what the senders wrote
    assert rows()[0].sent_at is not None


def test_the_same_message_is_never_queued_twice(app):
    now = utcnow()
    for _ in range(2):
        send_mail("a@school.example", "Hello", "Same text.", now=now)
        send_mail("a@school.example", "Weekly", "Same text.", key="digest:2026-W49", now=now)
    send_mail("a@school.example", "Weekly", "Same text.", key="digest:2026-W50", now=now)
    db.session.commit()
    assert [row.idempotency_key.split(":")[0] for row in rows()] == ["notice", "digest", "digest"]


def test_an_html_alternative_follows_the_plain_text(app, inbox):
    send_mail(
        "b@school.example",
        "Your week",
        "Plain words.",
        html="<p>Plain <b>words</b>.</p>",
        key="digest:1",
        unsubscribe_url="http://localhost/mail/unsubscribe/abc",
        now=utcnow(),
    )
    db.session.commit()
    assert delivery.deliver_due(utcnow()).sent == 1
    (message,) = inbox.messages
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    assert message["List-Unsubscribe"] == "<http://localhost/mail/unsubscribe/abc>"


def test_after_the_last_attempt_a_message_is_failed_and_listed_for_an_admin(app, smtp_port):
    send_mail("c@school.example", "Doomed", "Nobody listens.", now=utcnow())
    db.session.commit()
    (row,) = rows()
    now = utcnow()
    waits = []
    for _ in range(delivery.MAX_ATTEMPTS):
        assert delivery.deliver_due(now).failed == 1
        db.session.commit()  # a fresh snapshot: what the senders wrote
        waits.append(rows()[0].next_attempt_at - now)
        now = rows()[0].next_attempt_at
    assert waits[:5] == [timedelta(minutes=m) for m in (1, 5, 25, 125, 360)]
    (row,) = rows()
    assert row.attempts == delivery.MAX_ATTEMPTS and row.failed_at is not None
    assert delivery.deliver_due(now + timedelta(days=30)).failed == 0  # given up: left alone

    runner = app.test_cli_runner()
    listing = runner.invoke(args=["mail-failed"]).output
    assert f"{row.id}\t" in listing and "c@school.example" in listing and "Doomed" in listing
    assert "ConnectionRefusedError" in listing

    controller, inbox = start_server(smtp_port)
    try:
        assert "will be sent" in runner.invoke(args=["mail-retry", str(row.id)]).output
        assert runner.invoke(args=["send-mail"]).output.startswith("1 sent")
        assert len(inbox.messages) == 1
        assert runner.invoke(args=["mail-failed"]).output == "No message has failed.\n"
        assert runner.invoke(args=["mail-retry", str(row.id)]).exit_code != 0
    finally:
        controller.stop()


def test_without_a_mail_server_the_message_is_logged(app, client, caplog):
    student = factories.user(Role.STUDENT)
    with caplog.at_level(logging.INFO, logger="lms.mail"):
        assert post_form(client, "/password/forgot", {"email": student.email}).status_code == 302
    assert f"mail to {student.email}: Reset your password" in caplog.text
    assert "/password/reset/" in caplog.text
    (row,) = rows()
    assert row.sent_at is not None


def _redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.mark.skipif(not _redis_available(), reason="no Redis server at " + REDIS_URL)
def test_with_redis_the_worker_sends_the_mail(app, client, inbox):
    app.config.update(
        MAIL_DELIVERY="after_response",
        REDIS_URL=REDIS_URL,
        MAIL_QUEUE_NAME=f"lms-mail-test-{uuid.uuid4().hex}",
    )
    student = factories.user(Role.STUDENT)
    response = post_form(client, "/password/forgot", {"email": student.email})
    response.close()
    assert inbox.messages == []  # queued on Redis, not sent by the web process
    queue = delivery.redis_queue(app)
    try:
        assert queue.count == 1
        result = app.test_cli_runner().invoke(args=["worker", "--burst"])
        assert result.exit_code == 0, result.output
        (message,) = inbox.messages
        assert message["To"] == student.email
        assert db.session.scalar(select(func.count()).where(OutgoingMail.sent_at.is_not(None)))
    finally:
        queue.delete(delete_jobs=True)


def test_the_worker_refuses_to_start_without_redis(app):
    result = app.test_cli_runner().invoke(args=["worker"])
    assert result.exit_code != 0 and "set LMS_REDIS_URL" in result.output


def test_an_admin_sees_the_mail_given_up_on_and_sends_it_again(app, client, smtp_port):
    send_mail("d@school.example", "Lost notice", "Nobody listened.", now=utcnow())
    send_mail("e@school.example", "Still trying", "Later.", now=utcnow())
    db.session.commit()
    lost = rows()[0]
    lost.attempts, lost.failed_at = delivery.MAX_ATTEMPTS, utcnow()
    lost.last_error = "ConnectionRefusedError: [Errno 111] Connection refused"
    db.session.commit()
    admin = factories.user(Role.ADMIN)
    instructor = factories.user(Role.INSTRUCTOR)

    login(client, instructor.email)
    assert client.get("/admin/mail").status_code == 403
    client.get("/logout")
    login(client, admin.email)
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "1 message waits to be sent" in page
    assert "d@school.example" in page and "Lost notice" in page and "Connection refused" in page
    assert "e@school.example" not in page  # not given up on

    response = post_form(client, f"/admin/mail/{lost.id}/retry")
    assert response.status_code == 302
    db.session.commit()
    lost = rows()[0]
    assert (lost.failed_at, lost.attempts) == (None, 0)
    assert "No message has been given up on." in client.get("/admin/mail").get_data(as_text=True)
    assert post_form(client, f"/admin/mail/{lost.id}/retry").status_code == 404


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_the_app_logs_in_when_a_user_name_is_set(app, smtp_port):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login, auth_data.password) == (b"lms", b"s3cret")
        return AuthResult(success=ok)

    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=smtp_port,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,  # a test server without a certificate; production uses TLS
    )
    controller.start()
    try:
        send_mail("f@school.example", "Hello", "First try.", now=utcnow())
        db.session.commit()
        assert delivery.deliver_due(utcnow()).failed == 1  # no user name: no login, refused
        db.session.commit()
        assert "530" in rows()[0].last_error and "uthentication required" in rows()[0].last_error
        assert inbox.messages == []

        app.config["MAIL_USERNAME"] = "lms"
        app.config["MAIL_PASSWORD"] = "s3cret"
        assert delivery.deliver_due(utcnow() + timedelta(minutes=1)).sent == 1
        (message,) = inbox.messages
        assert message["To"] == "f@school.example"
    finally:
        controller.stop()
