"""``make screenshots``: the main pages at desktop and phone widths, into docs/screenshots/.

Not part of ``make test`` (deselected by the ``screenshots`` marker)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page

from lms.paths import PROJECT_DIR
from tests.e2e.conftest import log_in

OUT = PROJECT_DIR / "docs" / "screenshots"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}

pytestmark = pytest.mark.screenshots


def shoot(page: Page, name: str, size: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("load")
    page.screenshot(path=str(OUT / f"{name}-{size}.png"), full_page=size == "desktop")


@contextmanager
def logged_in(browser, server, size: str, email: str) -> Iterator[Page]:
    context = browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    log_in(page, server, email)
    try:
        yield page
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_screenshots(browser, live_server, size):
    with logged_in(browser, live_server, size, "student@example.com") as page:
        shoot(page, "student-dashboard", size)
        page.get_by_role("link", name="Body systems terminology").first.click()
        shoot(page, "lesson", size)
        start = page.get_by_role("button", name=re.compile("Start the quiz|Try again"))
        start.or_(page.get_by_role("link", name="Resume your attempt")).first.click()
        page.screenshot(path=str(OUT / f"quiz-{size}.png"), animations="disabled")
        for group in page.locator("fieldset.question").all():
            group.locator("input[type=radio]").first.check()
        page.get_by_role("button", name="Submit answers").click()
        shoot(page, "result", size)
        page.goto(f"{live_server.url}/grades")
        shoot(page, "student-grades", size)
        page.goto(f"{live_server.url}/notices")
        shoot(page, "student-notices", size)
    with logged_in(browser, live_server, size, "instructor@example.com") as page:
        page.get_by_role("link", name="CPC prep, day class").click()
        shoot(page, "instructor-matrix", size)
        page.get_by_role("link", name="Gradebook").click()
        shoot(page, "instructor-gradebook", size)
        page.go_back()
        page.get_by_role("link", name="Announcements").click()
        shoot(page, "instructor-announcements", size)
    with logged_in(browser, live_server, size, "admin@example.com") as page:
        shoot(page, "admin-export", size)
        page.goto(f"{live_server.url}/admin/credentials")
        page.get_by_role("link", name=re.compile(r"^CPC$")).first.click()
        shoot(page, "admin-requirement-builder", size)
        page.goto(f"{live_server.url}/verify/{live_server.app.config['DEMO_CERTIFICATE_CODE']}")
        shoot(page, "verify", size)


@pytest.mark.parametrize("size", SIZES)
def test_editor_screenshots(browser, live_server, size):
    """The editor (issue 16): a course's modules, a module's draft beside its preview, its
    versions, and its quiz builder."""
    with logged_in(browser, live_server, size, "admin@example.com") as page:
        page.goto(f"{live_server.url}/courses")
        terminology = page.locator("section", has_text="MTERM-1")
        terminology.get_by_role("link", name="Edit the course and its modules").click()
        shoot(page, "editor-course", size)
        page.get_by_role("link", name="Word parts: roots, prefixes and suffixes").click()
        shoot(page, "editor-module", size)
        page.get_by_role("link", name="Versions").click()
        shoot(page, "editor-versions", size)
        page.go_back()
        page.get_by_role("link", name="Quiz: questions and preview").click()
        shoot(page, "editor-quiz-builder", size)
