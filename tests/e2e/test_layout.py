"""Pages keep their width whatever a student types and whatever the screen (issue 19): a
2,000-character evidence text made the cohort page 19,000 px wide, the dashboard broke words
inside them at phone width, and lesson tables ran off the page."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from lms.auth import service as auth
from lms.credentials import service as credentials
from lms.credentials.rules import EvidenceKind
from lms.db import utcnow
from lms.extensions import db
from tests.e2e.conftest import log_in
from tests.e2e.test_journeys import PHONE

DESKTOP = {"width": 1280, "height": 900}


def test_a_very_long_evidence_text_wraps_and_its_file_is_linked(browser, live_server, tmp_path):
    with live_server.app.app_context():
        live_server.app.config["EVIDENCE_FOLDER"] = str(tmp_path / "evidence")
        student = auth.find_user_by_email("maria.gonzalez@example.com")
        credentials.submit_evidence(
            student,
            EvidenceKind.HS_DIPLOMA_OR_GED,
            "x" * 2000,
            utcnow() - timedelta(minutes=5),
            upload=credentials.Upload(content=b"%PDF-1.4 a diploma", filename="diploma.pdf"),
            storage=tmp_path / "evidence",
        )
        db.session.commit()
        db.session.remove()
    for viewport in (DESKTOP, PHONE):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        log_in(page, live_server, "instructor@example.com")
        for path in ("/cohorts/1", "/cohorts/1/certificates"):
            page.goto(live_server.url + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], (path, viewport, width)
        page.goto(live_server.url + "/cohorts/1")
        link = page.get_by_role("link", name="diploma.pdf")
        expect(link).to_be_visible()
        assert "/evidence/" in link.get_attribute("href")
        context.close()


def test_the_dashboard_and_a_lesson_fit_a_phone_without_breaking_words(browser, live_server):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    log_in(page, live_server, "student@example.com")
    page.goto(live_server.url + "/dashboard")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # No cell of the dashboard's tables breaks a word of ordinary text in two.
    broken = page.evaluate(
        """() => [...document.querySelectorAll('table td, table th')]
            .filter(cell => !cell.classList.contains('free-text'))
            .map(cell => getComputedStyle(cell).overflowWrap)
            .filter(wrap => wrap === 'anywhere')"""
    )
    assert broken == []
    # A lesson with a table: the table scrolls inside the lesson, the page does not.
    page.goto(live_server.url + "/courses")
    for href in page.locator("a[href^='/modules/']").evaluate_all("a => a.map(x => x.href)"):
        page.goto(href)
        if page.locator(".lesson table").count():
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], href
    context.close()


def test_the_exam_clock_stays_in_view_and_blank_questions_are_named(
    browser, live_server, check_a11y
):
    """A 42-question timed practice exam: scrolled to its last question, the clock is still
    on screen; "Submit answers" with questions blank names them first (issue 19, item 8).
    The navigator (issue 19, item 16) states each question's state in words, follows a
    change at once (the script) and after a reload (the server), and a question flagged for
    review is named before submitting."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, live_server, "student@example.com")
    page.goto(live_server.url + "/courses")
    page.get_by_role("link", name="CPC-style practice exam").first.click()
    page.get_by_role("button", name=re.compile("Start the quiz|Try again|Resume")).click()
    clock = page.locator("p.timer")
    expect(clock).to_be_visible()
    navigator = page.get_by_role("navigation", name="Questions")
    entry = {n: navigator.locator(f'a[href="#question-{n}"]') for n in (1, 3, 42)}
    expect(entry[1]).to_contain_text("not answered")
    # each attempt draws its own questions: the first may be a choice or a coding case
    first = page.locator("fieldset.question").first
    if first.locator("input[name^='q-']").count():
        first.locator("input[name^='q-']").first.check()
    else:
        first.locator("textarea.code-entry").first.fill("E11.9")
    expect(entry[1]).to_have_text(re.compile(r"^\s*1\s+answered\s*$"))
    page.get_by_label("Flag question 3 for review", exact=True).check()
    expect(entry[3]).to_have_text(re.compile(r"^\s*3\s+not answered, flagged\s*$"))
    expect(navigator).to_contain_text("1 of 42 answered, 1 flagged for review.")
    expect(page.locator(".autosave-status")).to_have_text("All answers saved.")
    page.reload()  # drawn by the server from what was saved
    expect(entry[1]).to_have_text(re.compile(r"^\s*1\s+answered\s*$"))
    expect(entry[3]).to_have_text(re.compile(r"^\s*3\s+not answered, flagged\s*$"))
    expect(page.get_by_label("Flag question 3 for review", exact=True)).to_be_checked()
    check_a11y(page)
    entry[42].click()  # the link goes to the question, the clock still in view above it
    expect(page).to_have_url(re.compile("#question-42$"))
    expect(page.locator("#question-42")).to_be_in_viewport()
    page.locator("#question-42 input[name^='q-'], #question-42 textarea").first.focus()
    expect(entry[42]).to_have_attribute("aria-current", "location")
    top = page.evaluate("document.querySelector('p.timer').getBoundingClientRect().top")
    assert 0 <= top < 50, top  # stuck to the top of the window, not scrolled away
    page.get_by_role("button", name="Submit answers").click()
    warning = page.get_by_role("alert").filter(has_text="You have not answered 41 questions")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("You flagged question 3 for review.")
    check_a11y(page)
    page.get_by_role("button", name="Submit with 41 unanswered").click()
    expect(page.get_by_role("heading", name="Your result")).to_be_visible()
    expect(page.get_by_text("1 of 42 questions answered")).to_be_visible()
    context.close()


def test_autosaves_go_one_at_a_time_so_a_later_change_is_never_undone(browser, live_server):
    """Two changes in quick succession (question 2 flagged, then question 3): the second
    save waits for the first, so the server never writes the older form last, and "All
    answers saved." waits for the last one. Two saves in flight once let the older one,
    written second, undo a flag."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, live_server, "student@example.com")
    page.goto(live_server.url + "/courses")
    page.get_by_role("link", name="CPC-style practice exam").first.click()
    page.get_by_role("button", name=re.compile("Start the quiz|Try again|Resume")).click()
    status = page.locator(".autosave-status")
    held = []  # the autosave requests, let through only when the test says
    autosaves = re.compile(r"/attempts/\d+/answers$")

    def hold(route) -> None:
        held.append(route)

    page.route(autosaves, hold)

    def sent(count: int) -> None:
        for _ in range(100):
            if len(held) >= count:
                return
            page.wait_for_timeout(50)
        raise AssertionError(f"{len(held)} autosaves sent, not {count}")

    page.get_by_label("Flag question 2 for review", exact=True).check()
    sent(1)
    page.get_by_label("Flag question 3 for review", exact=True).check()
    page.wait_for_timeout(500)
    assert len(held) == 1  # the second change waits for the first save
    expect(status).to_have_text("Saving…")
    held[0].continue_()
    sent(2)
    expect(status).to_have_text("Saving…")  # not "saved" while the last change is on its way
    held[1].continue_()
    expect(status).to_have_text("All answers saved.")
    page.unroute(autosaves, hold)
    page.reload()  # drawn by the server from what was saved
    for n in (2, 3):
        expect(page.get_by_label(f"Flag question {n} for review", exact=True)).to_be_checked()
    page.get_by_role("button", name="Submit answers").click()
    page.get_by_role("button", name=re.compile("Submit with 42 unanswered")).click()
    expect(page.get_by_role("heading", name="Your result")).to_be_visible()
    context.close()


def test_the_requirement_builder_adds_and_removes_in_the_draft_without_saving(
    browser, live_server, check_a11y
):
    """An admin adds a module to the CCA draft with the builder's fields, sees it in the
    outline, removes it again, and nothing is saved (issue 19, item 17)."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, live_server, "admin@example.com")
    page.goto(live_server.url + "/admin/credentials")
    page.get_by_role("link", name=re.compile(r"^CCA")).first.click()
    outline = page.locator("ul.outline > li")
    before = outline.count()
    assert before > 0
    check_a11y(page)
    page.get_by_label("Kind of requirement").select_option("course_completed")
    page.get_by_label("Course", exact=True).select_option(index=1)
    page.get_by_role("button", name="Add to the draft").click()
    expect(outline).to_have_count(before + 1)
    expect(page.get_by_text("Nothing here is saved")).to_be_visible()
    check_a11y(page)
    outline.last.get_by_role("button").click()
    expect(outline).to_have_count(before)
    context.close()
