"""The gradebook, the student's grades and the calendar feed, in a real browser, with axe-core
on every page visited (issue 19 items 11 and 14)."""

from __future__ import annotations

import csv
import io
import re

import icalendar
from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in


def test_an_instructor_reads_the_gradebook_down_to_an_answer(page: Page, live_server, check_a11y):
    log_in(page, live_server, "instructor@example.com")
    page.get_by_role("link", name="CPC prep, day class").click()
    page.get_by_role("link", name="Gradebook").click()
    expect(page.get_by_role("heading", name="Gradebook: CPC prep, day class")).to_be_visible()
    check_a11y(page)
    # Maria failed MTERM-1, then passed it.
    row = page.locator("tr", has=page.get_by_role("rowheader", name=re.compile("Maria Gonzalez")))
    cell = row.locator("td", has_text="2 attempts")
    expect(cell).to_have_count(1)
    cell.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Maria Gonzalez")
    expect(page.get_by_role("cell", name="Not passed")).to_have_count(1)
    check_a11y(page)
    page.get_by_role("link", name="Attempt 1").click()
    expect(page.get_by_role("heading", name="Question by question")).to_be_visible()
    expect(page.get_by_text("Wrong", exact=True).first).to_be_visible()
    expect(page.get_by_text("(correct answer)").first).to_be_visible()
    check_a11y(page)

    page.get_by_role("link", name="Back to the gradebook").click()
    href = page.get_by_role("link", name="Download CSV").get_attribute("href")
    response = page.request.get(live_server.url + href)
    assert response.ok and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text())))
    maria = next(r for r in rows if r["student_name"] == "Maria Gonzalez")
    assert maria["MTERM-1 attempts"] == "2"


def test_a_student_reads_their_grades_and_subscribes_to_their_calendar(
    page: Page, live_server, check_a11y
):
    log_in(page, live_server, "certified@example.com")
    page.get_by_role("link", name="My grades").first.click()
    expect(page.get_by_role("heading", name="My grades")).to_be_visible()
    expect(page.get_by_role("cell", name="Passed").first).to_be_visible()
    check_a11y(page)

    page.get_by_role("link", name="My progress").click()
    page.get_by_role("button", name="Make my calendar link").click()
    link = page.get_by_label(re.compile("Your calendar link"))
    expect(link).to_be_visible()
    check_a11y(page)
    old = link.input_value()
    feed = page.request.get(old)
    assert feed.ok and feed.headers["content-type"] == "text/calendar; charset=utf-8"
    events = icalendar.Calendar.from_ical(feed.body()).walk("VEVENT")
    assert any(str(event["SUMMARY"]).startswith("Due: ") for event in events)

    page.get_by_role("button", name="Reset the link").click()  # the box not ticked
    expect(page.get_by_text("Tick the box to confirm")).to_be_visible()
    check_a11y(page)
    page.get_by_label(re.compile("I understand")).check()
    page.get_by_role("button", name="Reset the link").click()
    new = page.get_by_label(re.compile("Your calendar link")).input_value()
    assert new != old
    assert page.request.get(old).status == 404
    assert page.request.get(new).ok
