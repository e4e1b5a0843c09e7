"""The cohort matrix a page at a time, in a real browser: the page links by keyboard, axe-core
on a page and on a refused page number, and no sideways scroll on a phone."""

from __future__ import annotations

from contextlib import contextmanager

from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.e2e.test_journeys import PHONE


@contextmanager
def page_size(server, students: int):
    """Serve the matrix ``students`` a page (the demo cohort is small)."""
    before = server.app.config.get("MATRIX_PAGE_SIZE")
    server.app.config["MATRIX_PAGE_SIZE"] = students
    try:
        yield
    finally:
        if before is None:
            server.app.config.pop("MATRIX_PAGE_SIZE")
        else:
            server.app.config["MATRIX_PAGE_SIZE"] = before


def test_instructor_pages_through_the_matrix(browser, live_server, check_a11y):
    context = browser.new_context()
    page = context.new_page()
    log_in(page, live_server, "instructor@example.com")
    with page_size(live_server, 2):
        page.goto(live_server.url + "/cohorts/1?sort=-progress")
        pages = page.get_by_role("navigation", name="Pages of the matrix")
        expect(pages).to_be_visible()
        expect(page.get_by_text("Students 1–2 of")).to_be_visible()
        check_a11y(page)
        first = page.locator("table.matrix tbody th[scope=row] a").all_inner_texts()
        next_link = pages.get_by_role("link", name="Next")
        next_link.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_text("Students 3–")).to_be_visible()
        assert "sort=-progress" in page.url and "page=2" in page.url
        second = page.locator("table.matrix tbody th[scope=row] a").all_inner_texts()
        assert second and not set(first) & set(second)
        expect(pages.locator("[aria-current=page]")).to_have_text("2")
        check_a11y(page)

        response = page.goto(live_server.url + "/cohorts/1?page=99")
        assert response.status == 404
        expect(page.get_by_role("alert")).to_contain_text("There is no page 99")
        check_a11y(page)
        page.get_by_role("link", name="Go to the last page").click()
        expect(page.get_by_role("table")).to_be_visible()
    context.close()


def test_a_matrix_page_fits_a_phone(browser, live_server):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    log_in(page, live_server, "instructor@example.com")
    with page_size(live_server, 2):
        for path in ("/cohorts/1", "/cohorts/1?page=2", "/cohorts/1?page=abc"):
            response = page.goto(live_server.url + path)
            assert response.status in (200, 400), path
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], (path, width)
    context.close()
