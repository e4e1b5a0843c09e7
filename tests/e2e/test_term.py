"""A term's loose ends, in the browser (issue 19): a revoked certificate issued again and
revoked once more, and an announcement that reaches a student's mailbox through a real SMTP
server (aiosmtpd on a free port of 127.0.0.1)."""

from __future__ import annotations

import re
import time

from aiosmtpd.controller import Controller
from playwright.sync_api import Page, expect
from sqlalchemy import select

from lms.extensions import db
from lms.mail.models import OutgoingMail
from tests.e2e.conftest import log_in
from tests.test_mail import free_port, start_server

COHORT = "CPC prep, day class"
EVENING = "CCA prep, evening class"  # Sam Rivera's (student@example.com)


def open_certificates(page: Page, live_server) -> None:
    log_in(page, live_server, "instructor@example.com")
    page.get_by_role("link", name=COHORT).first.click()
    page.get_by_role("link", name="Certificates, real exam results and evidence files").click()


def test_an_instructor_issues_a_revoked_certificate_again_then_revokes_it(
    page: Page, live_server, check_a11y
):
    """Chris Okafor's demo certificate was revoked: the row offers "Issue again"; the new
    certificate verifies; revoking it (with a public reason and a private note) leaves the row
    revoked with "Issue again" offered once more."""
    open_certificates(page, live_server)
    row = page.get_by_role("row").filter(has_text="Chris Okafor")
    expect(row.get_by_text("Revoked")).to_be_visible()
    check_a11y(page)
    row.get_by_role("button", name="Issue again").click()
    row = page.get_by_role("row").filter(has_text="Chris Okafor")
    expect(row.get_by_role("link", name="Issued")).to_be_visible()

    row.get_by_role("link", name="Revoke the certificate of Chris Okafor").click()
    check_a11y(page)
    page.get_by_label("Reason shown on the verification page").select_option("issued_in_error")
    page.get_by_label("Note for the school's records").fill("Issued before the exam result.")
    page.get_by_role("button", name="Revoke the certificate").click()
    expect(page.get_by_text("The certificate of Chris Okafor is revoked.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Chris Okafor")
    expect(row.get_by_role("button", name="Issue again")).to_be_visible()
    expect(row.get_by_role("link", name="Revoked")).to_have_count(2)

    row.get_by_role("link", name="Revoked").first.click()  # the public page says why
    expect(page.get_by_text("Issued in error")).to_be_visible()
    expect(page.get_by_text("Issued before the exam result.")).to_have_count(0)


def outbox_rows(live_server) -> list[tuple]:
    """What the outbox holds, for a failure's message."""
    with live_server.app.app_context():
        return [
            (row.id, row.sent_at, row.claimed_until, row.attempts, row.last_error)
            for row in db.session.scalars(
                select(OutgoingMail).where(OutgoingMail.kind == "announcement")
            )
        ]


def test_an_announcement_reaches_the_students_mailbox(browser, live_server, check_a11y):
    """The instructor posts to the cohort; the SMTP server receives the mail after the
    response; the student sees it on the dashboard and the header counts the notice."""
    port = free_port()
    controller: Controller
    controller, inbox = start_server(port)
    config = live_server.app.config
    saved = {key: config.get(key) for key in ("MAIL_SERVER", "MAIL_PORT", "MAIL_DEFAULT_SENDER")}
    config.update(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_DEFAULT_SENDER="office@school.example"
    )
    try:
        context = browser.new_context()
        page = context.new_page()
        log_in(page, live_server, "instructor@example.com")
        page.get_by_role("link", name=EVENING).first.click()
        page.get_by_role("link", name="Announcements").click()
        check_a11y(page)
        page.get_by_label("Title").fill("Mock exam on Saturday")
        page.get_by_label("Text").fill("Room 4, 9 am. Bring your code books.")
        page.get_by_role("button", name="Post to the cohort").click()
        expect(page.get_by_text("The announcement is posted")).to_be_visible()
        context.close()

        # sent after the response, by the server's thread (lms.transactions.CloseAfterLastChunk
        # makes sure it runs when the browser drops the connection after the redirect)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
            m["To"] == "student@example.com" for m in inbox.messages
        ):
            time.sleep(0.1)
        received = [m for m in inbox.messages if m["To"] == "student@example.com"]
        assert len(received) == 1, (inbox.messages, outbox_rows(live_server))
        mail = received[0]
        assert mail["Subject"] == f"{EVENING}: Mock exam on Saturday"
        assert "Bring your code books." in mail.get_body(("plain",)).get_content()
    finally:
        controller.stop()
        for key, value in saved.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value

    context = browser.new_context()
    page = context.new_page()
    log_in(page, live_server, "student@example.com")
    page.goto(live_server.url + "/dashboard")
    expect(page.get_by_role("heading", name="Mock exam on Saturday")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^Notices, \d+ unread$"))).to_be_visible()
    check_a11y(page)
    context.close()


def test_the_new_pages_pass_axe(browser, live_server, check_a11y):
    """The notices, the mail choices, the code look-up and the admin's mail page: axe finds
    nothing on them."""
    context = browser.new_context()
    page = context.new_page()
    log_in(page, live_server, "student@example.com")
    for path, heading in [
        ("/notices", "Notices"),
        ("/account/notifications", None),
        ("/codes?q=diabetes+ketoacidosis", None),
        ("/codes/E11.9", None),
    ]:
        page.goto(live_server.url + path, timeout=60_000)
        if heading:
            expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        check_a11y(page)
    context.close()
    context = browser.new_context()
    page = context.new_page()
    log_in(page, live_server, "admin@example.com")
    page.goto(live_server.url + "/admin/mail")
    check_a11y(page)
    context.close()
