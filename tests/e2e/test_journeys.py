"""Each user's main path, in a real browser, with axe-core on every page visited."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy import select

from lms.courses.models import Choice
from lms.credentials.models import Certificate, CertificateStatus
from lms.extensions import db
from tests.e2e.conftest import log_in

PHONE = {"width": 375, "height": 812}


def correct_positions(server, page: Page) -> list[int]:
    """For each question on the page, the position of its correct choice in the page's order."""
    groups = page.locator("fieldset.question")
    positions = []
    with server.app.app_context():
        for i in range(groups.count()):
            ids = (
                groups.nth(i).locator("input[type=radio]").evaluate_all("els => els.map(e => e.id)")
            )
            question_id = int(re.match(r"q(\d+)-", ids[0]).group(1))
            correct = set(
                db.session.scalars(
                    select(Choice.id).where(Choice.question_id == question_id, Choice.is_correct)
                )
            )
            choice_ids = [int(x.split("-c")[1]) for x in ids]
            positions.append(next(n for n, cid in enumerate(choice_ids) if cid in correct))
    return positions


def assert_focus_visible(page: Page) -> None:
    style = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth, s.boxShadow]; }"
    )
    assert style[0] != "none" and style[1] != "0px" or style[2] != "none", style


def test_student_journey(page: Page, live_server, check_a11y):
    log_in(page, live_server, "student@example.com")
    expect(page.get_by_role("heading", name="My progress")).to_be_visible()
    cpc = page.locator("section", has=page.get_by_role("heading", name=re.compile("^CPC")))
    expect(cpc.locator("progress")).to_have_attribute("value", "0")
    expect(
        cpc.get_by_text("Pass Word parts: roots, prefixes and suffixes (MTERM-1)")
    ).to_be_visible()
    check_a11y(page)

    cpc.get_by_role("link", name="Word parts: roots, prefixes and suffixes").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Word parts: roots, prefixes and suffixes"
    )
    expect(page.locator("article.lesson table").first).to_be_visible()
    check_a11y(page)

    # The whole quiz by keyboard: Enter on the start button, Tab into each radio group (past
    # the previous question's "Flag for review" checkbox), arrows to the answer, Tab to the
    # submit button, Enter to send.
    start = page.get_by_role("button", name="Start the quiz")
    start.focus()
    page.keyboard.press("Shift+Tab")  # reach it by keyboard, as a keyboard user does
    page.keyboard.press("Tab")
    expect(start).to_be_focused()
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    expect(page.locator("fieldset.question").first).to_be_visible()
    check_a11y(page)
    positions = correct_positions(live_server, page)
    first_radio = page.locator("fieldset.question input[type=radio]").first
    first_radio.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    expect(first_radio).to_be_focused()
    for index, position in enumerate(positions):
        if index:
            page.keyboard.press("Tab")  # the previous question's "Flag for review"
            assert_focus_visible(page)
            page.keyboard.press("Tab")
        assert_focus_visible(page)
        page.keyboard.press("Space")
        for _ in range(position):
            page.keyboard.press("ArrowDown")
    submit = page.get_by_role("button", name="Submit answers")
    for _ in range(4):  # past the last "Flag for review" and "Save and continue later"
        page.keyboard.press("Tab")
        if submit.evaluate("b => b === document.activeElement"):
            break
    expect(submit).to_be_focused()
    assert_focus_visible(page)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Your result")).to_be_visible()
    expect(page.get_by_text("You passed with 100%.")).to_be_visible()
    expect(page.locator(".rationale").first).to_be_visible()
    check_a11y(page)

    page.get_by_role("link", name="See my progress").click()
    cpc = page.locator("section", has=page.get_by_role("heading", name=re.compile("^CPC")))
    expect(cpc.locator("progress")).to_have_attribute("value", "5")  # 1 of 20 requirements
    expect(
        cpc.get_by_text("Pass Word parts: roots, prefixes and suffixes (MTERM-1)")
    ).to_have_count(0)
    expect(
        cpc.get_by_text("Pass Body systems terminology (MTERM-2) with 70% or more")
    ).to_be_visible()
    cca = page.locator("section", has=page.get_by_role("heading", name=re.compile("^CCA")))
    expect(
        cca.get_by_text("Have your high school diploma or GED verified: not submitted yet")
    ).to_be_visible()


def test_certified_student_opens_verify_page(page: Page, live_server, check_a11y):
    log_in(page, live_server, "certified@example.com")
    expect(page.get_by_text("readiness certificate was issued")).to_be_visible()
    page.get_by_role("link", name="Open its verification page").click()
    expect(page.get_by_text("Valid.")).to_be_visible()
    expect(page.locator("dd", has_text="Priya Natarajan")).to_be_visible()
    check_a11y(page)
    # The browser shows the PDF inline; fetch what the link points to, as the browser does.
    href = page.get_by_role("link", name="Printable certificate (PDF)").get_attribute("href")
    response = page.request.get(live_server.url + href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pdf = PdfReader(io.BytesIO(response.body()))
    text = "".join(p.extract_text() for p in pdf.pages)
    assert "Priya Natarajan" in text and "CPC" in text
    code = live_server.app.config["DEMO_CERTIFICATE_CODE"]
    links = [
        annotation.get_object().get("/A", {}).get("/URI")
        for p in pdf.pages
        for annotation in p.get("/Annots") or []
    ]
    assert any(link and link.endswith(f"/verify/{code}") for link in links)  # the QR's target


def test_instructor_journey(page: Page, live_server, check_a11y):
    log_in(page, live_server, "instructor@example.com")
    expect(page.get_by_role("heading", name="My cohorts")).to_be_visible()
    check_a11y(page)
    page.get_by_role("link", name="New cohort").click()
    check_a11y(page)
    page.get_by_label("Cohort name").fill("CPB weekend class")
    page.get_by_label("Target credential").select_option(label="CPB: Certified Professional Biller")
    page.get_by_label("Start date").fill("2026-12-01")
    page.get_by_label("Target exam date").fill("2027-04-30")
    page.get_by_role("button", name="Create cohort").click()
    expect(page.get_by_role("heading", name="CPB weekend class")).to_be_visible()

    # Roster: one bad row is reported with its row, column and reason, and nobody is enrolled;
    # the fixed file enrols everyone.
    page.get_by_role("link", name="Import a roster").click()
    check_a11y(page)
    bad = "email,first name,last name\r\nana.ng@example.com,Ana,Ng\r\nnot-an-email,Bo,Lee\r\n"
    page.get_by_label("Roster file (CSV)").set_input_files(
        files=[{"name": "roster.csv", "mimeType": "text/csv", "buffer": bad.encode()}]
    )
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("1 problem: nobody was enrolled")).to_be_visible()
    problem = page.locator("tr.problem")
    expect(problem).to_contain_text("3")
    expect(problem).to_contain_text("email")
    check_a11y(page)
    fixed = bad.replace("not-an-email", "bo.lee@example.com") + "certified@example.com,Priya,N\r\n"
    page.get_by_label("Roster file (CSV)").set_input_files(
        files=[{"name": "roster.csv", "mimeType": "text/csv", "buffer": fixed.encode()}]
    )
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("button", name="Enrol all 3").click()
    expect(page.get_by_role("heading", name="CPB weekend class")).to_be_visible()
    # Priya already had an account: she is asked first, and joins when she accepts.
    expect(page.get_by_role("heading", name="Awaiting acceptance")).to_be_visible()
    check_a11y(page)
    cohort_url = page.url
    page.get_by_role("link", name="Log out").click()
    log_in(page, live_server, "certified@example.com")
    invitation = page.locator("section.invitation", has_text="CPB weekend class")
    expect(invitation).to_contain_text("invites you to join CPB weekend class")
    check_a11y(page)
    invitation.get_by_role("button", name="Accept").click()
    expect(page.get_by_text("You joined CPB weekend class")).to_be_visible()
    page.get_by_role("link", name="Log out").click()
    log_in(page, live_server, "instructor@example.com")
    page.goto(cohort_url)
    expect(page.get_by_role("heading", name="CPB weekend class")).to_be_visible()

    # The matrix: Priya has done five of the CPB modules already (the CPC's she shares).
    row = page.locator("tr", has=page.get_by_role("rowheader", name=re.compile("Priya Natarajan")))
    # MTERM-1, CODING-1, CODING-2, CODING-3, LAW-3
    expect(row.locator("td.cell-done")).to_have_count(5)
    check_a11y(page)

    # Override two requirements, with a reason (the CPB's billing courses and practice exam
    # are still to do: overrides are for what a student showed elsewhere, issue 18).
    row.get_by_role("link", name="Priya Natarajan").click()
    check_a11y(page)
    page.get_by_label("Requirement").select_option("LAW-1")
    page.get_by_label("Decision").select_option("met")
    page.get_by_role("button", name="Record the override").click()
    expect(page.get_by_text("reason", exact=False).first).to_be_visible()  # refused: no reason
    if page.get_by_label("Requirement").count() == 0:
        page.go_back()
    page.get_by_label("Requirement").select_option("LAW-1")
    page.get_by_label("Decision").select_option("met")
    page.get_by_label("Reason").fill("Passed the school's HIPAA privacy workshop on 3 Nov.")
    page.get_by_role("button", name="Record the override").click()
    expect(
        page.get_by_role("cell", name="Passed the school's HIPAA privacy workshop on 3 Nov.")
    ).to_be_visible()
    page.get_by_label("Requirement").select_option("LAW-2")
    page.get_by_label("Decision").select_option("met")
    page.get_by_label("Reason").fill("Completed LAW-2 at her previous school (transcript on file).")
    page.get_by_role("button", name="Record the override").click()

    # Extra time on timed quizzes (issue 19 item 15): refused without a reason, beside it.
    page.get_by_label("Extra time").select_option("1.5")
    page.get_by_role("button", name="Grant extra time").click()
    expect(page.get_by_text("Give the reason for the extra time")).to_be_visible()
    check_a11y(page)
    page.get_by_label("Why the student needs it").fill("Disability office letter of 2 Nov.")
    page.get_by_role("button", name="Grant extra time").click()
    expect(page.get_by_text("Extra time granted: 1.5 × the time limit")).to_be_visible()
    expect(page.get_by_role("cell", name="Disability office letter of 2 Nov.")).to_be_visible()
    cohort_url = re.match(r"(.*/cohorts/\d+)/", page.url).group(1)
    page.goto(cohort_url)
    ready = page.locator("tr", has=page.get_by_role("rowheader", name=re.compile("Priya")))
    expect(ready.locator("td", has_text="override")).to_have_count(2)
    expect(ready).not_to_contain_text("Issued")  # the billing courses are still to do
    page.get_by_role("link", name=re.compile("Certificates")).first.click()
    check_a11y(page)
    expect(page.get_by_text("Priya Natarajan").first).to_be_visible()

    page.get_by_role("link", name="My cohorts").click()
    page.get_by_role("link", name="CPC prep, day class").click()
    expect(page.get_by_text("students ready for CPC")).to_be_visible()
    check_a11y(page)


def test_admin_exports_csv_and_xlsx_and_reads_the_audit_log(page: Page, live_server, check_a11y):
    log_in(page, live_server, "admin@example.com")
    expect(page.get_by_role("heading", name="Exports", exact=True)).to_be_visible()
    check_a11y(page)

    def download(fmt: str):
        page.get_by_label("Records").select_option("completions")
        page.get_by_label("Format").select_option(fmt)
        page.get_by_label("Cohort").select_option(label="CPC prep, day class (CPC)")
        with page.expect_download() as info:
            page.get_by_role("button", name="Download").click()
        return info.value

    csv_file = download("csv")
    assert csv_file.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(csv_file.path().read_text(encoding="utf-8"))))
    header, body = rows[0], rows[1:]
    email = header.index("student_email")
    kind = header.index("kind")
    assert "certified@example.com" in {row[email] for row in body}
    assert {row[kind] for row in body} >= {"module_completed", "certificate_issued"}

    xlsx_file = download("xlsx")
    assert xlsx_file.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_file.path().read_bytes()), read_only=True).active
    xlsx_rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert [str(cell) for cell in xlsx_rows[0]] == header
    assert len(xlsx_rows) == len(rows)  # the same entries in both formats

    page.goto(live_server.url + "/admin/audit")
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.get_by_role("cell", name=re.compile("^export")).first).to_be_visible()
    check_a11y(page)


def test_anyone_verifies_valid_and_revoked_certificates(browser, live_server, check_a11y):
    code = live_server.app.config["DEMO_CERTIFICATE_CODE"]
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/verify/{code}")
    expect(page.get_by_text("Valid.")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    check_a11y(page)

    with live_server.app.app_context():
        certificate = db.session.scalar(select(Certificate).where(Certificate.code == code))
        certificate.status = CertificateStatus.REVOKED
        db.session.commit()
    try:
        page.reload()
        expect(page.get_by_text("Revoked.")).to_be_visible()
        check_a11y(page)
    finally:
        with live_server.app.app_context():
            certificate = db.session.scalar(select(Certificate).where(Certificate.code == code))
            certificate.status = CertificateStatus.ISSUED
            db.session.commit()
    page.goto(f"{live_server.url}/verify/AAAA-BBBB")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    context.close()


def test_pages_fit_a_phone(browser, live_server):
    pages = {
        "student@example.com": ["/dashboard", "/courses", "/evidence", "/exam-results", "/grades"],
        "instructor@example.com": [
            "/cohorts",
            "/cohorts/1",
            "/cohorts/1/certificates",
            "/cohorts/1/gradebook",
            "/cohorts/1/announcements",
        ],
        "admin@example.com": [
            "/admin/exports",
            "/admin/audit",
            "/admin/users",
            "/admin/users/new",
            "/admin/users/1/edit",
            "/account/profile",
        ],
    }
    for email, paths in pages.items():
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        log_in(page, live_server, email)
        for path in paths:
            response = page.goto(live_server.url + path)
            assert response.status == 200, path
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], (path, width)
        context.close()


def test_admin_adds_and_edits_a_user_and_picks_a_time_zone(page: Page, live_server, check_a11y):
    log_in(page, live_server, "admin@example.com")
    page.goto(live_server.url + "/admin/users")
    check_a11y(page)
    page.get_by_role("link", name="Add a user").click()
    expect(page.get_by_role("heading", name="Add a user")).to_be_visible()
    page.get_by_label("Full name").fill("Lee Okafor")
    page.get_by_label("Email").fill("student@example.com")  # taken
    page.get_by_role("button", name="Add the user").click()
    expect(page.locator("#email-error")).to_contain_text("already exists")
    check_a11y(page)
    page.get_by_label("Email").fill("lee.okafor@example.com")
    page.get_by_label("Role").select_option("instructor")
    page.get_by_role("button", name="Add the user").click()
    expect(page.get_by_role("heading", name="Lee Okafor")).to_be_visible()
    expect(page.get_by_text("a link to set its password is on its way")).to_be_visible()
    check_a11y(page)
    page.get_by_label("Full name").fill("Lee A. Okafor")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Lee A. Okafor")).to_be_visible()

    page.get_by_role("link", name="Profile").click()
    page.get_by_label("Time zone").select_option("America/New_York")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    check_a11y(page)
    page.goto(live_server.url + "/admin/audit")
    expect(page.get_by_role("cell", name=re.compile(r", \d\d:\d\d E[SD]T$")).first).to_be_visible()
    page.goto(live_server.url + "/account/profile")  # back to UTC for the other tests
    page.get_by_label("Time zone").select_option("UTC")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
