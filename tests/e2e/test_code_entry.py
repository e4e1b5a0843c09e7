"""A code-entry case in the browser (issue 18): the student types codes, sees each one judged
as they type, submits, and reads the feedback code by code; axe checks both pages."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from lms.courses import content
from lms.courses.models import Module
from lms.extensions import db
from tests.e2e.conftest import log_in

CASE = """Follow-up visit. 61-year-old established patient with type 2 diabetes mellitus, no
complications documented; blood glucose log reviewed, diet counselling given."""


def coding_case_module(live_server) -> int:
    """A course with one code-entry case, added to the served demo school."""
    with live_server.app.app_context():
        existing = db.session.scalar(select(Module).where(Module.code == "E2E-CODES-1"))
        if existing is None:
            content.create_course(
                {
                    "code": "E2E-CODES",
                    "title": "Coding cases (browser test)",
                    "topic_area": "coding",
                    "modules": [
                        {
                            "code": "E2E-CODES-1",
                            "title": "A diabetes follow-up",
                            "questions": [
                                {
                                    "kind": "code_entry",
                                    "stem": "Assign the ICD-10-CM code for this visit.",
                                    "case": CASE,
                                    "rationale": "Type 2 diabetes without complications.",
                                    "content_area": "ICD-10-CM",
                                    "boxes": [
                                        {
                                            "label": "ICD-10-CM diagnosis codes",
                                            "code_set": "icd10cm",
                                            "order": "first",
                                            "key": [["E11.9"]],
                                            "feedback": ["No complication is documented."],
                                        }
                                    ],
                                }
                            ],
                        }
                    ],
                }
            )
            db.session.commit()
        module_id = db.session.scalar(select(Module.id).where(Module.code == "E2E-CODES-1"))
        db.session.remove()
    return module_id


def test_a_student_sees_each_code_judged_as_they_type_then_per_code_feedback(
    page: Page, live_server, check_a11y
):
    module_id = coding_case_module(live_server)
    log_in(page, live_server, "student@example.com")
    page.goto(f"{live_server.url}/modules/{module_id}")
    page.get_by_role("button", name="Start the quiz").click()
    expect(page.get_by_text("blood glucose log reviewed")).to_be_visible()

    box = page.get_by_label("ICD-10-CM diagnosis codes")
    box.fill("E11.9, e119, S52.521, E11")
    checks = page.locator(".code-checks li")
    expect(checks).to_have_count(4)
    expect(checks.nth(0)).to_contain_text("E11.9")
    expect(checks.nth(0)).to_contain_text("valid and billable")
    expect(checks.nth(1)).to_contain_text("E11.9")  # e119 read as E11.9
    expect(checks.nth(1)).to_contain_text("valid and billable")
    expect(checks.nth(2)).to_contain_text("needs a 7th character")
    expect(checks.nth(3)).to_contain_text("needs more characters")
    check_a11y(page)

    page.get_by_role("button", name="Submit answers").click()
    feedback = page.locator(".code-feedback li")
    expect(feedback.first).to_contain_text("E11.9: right. No complication is documented.")
    expect(page.locator(".code-feedback li.verdict-wrong")).to_have_count(3)
    expect(page.get_by_text("Credit for this question:")).to_be_visible()
    check_a11y(page)


def test_the_full_length_cpc_exam_has_100_questions_a_4_hour_clock_and_coding_cases(
    page: Page, live_server, check_a11y
):
    """Issue 18's done-when, the exam's side: the CPC practice exam a student opens is 100
    questions on a 4-hour clock kept by the server, with code-entry cases among them (every
    procedure area draws all of its questions, cases included), each box judged as typed."""
    log_in(page, live_server, "student@example.com")
    page.goto(f"{live_server.url}/courses")
    page.get_by_role("link", name="CPC practice exam (full length)").click()
    expect(page.get_by_text("100 questions.")).to_be_visible()
    expect(page.get_by_text("Time limit: 240 minutes")).to_be_visible()
    page.get_by_role("button", name="Start the quiz").click()
    expect(page.locator("fieldset.question")).to_have_count(100)
    expect(page.locator("[role=timer] strong")).to_contain_text("3:5")  # 3:59:xx left
    boxes = page.locator("textarea.code-entry[data-code-set=cpt]")
    assert boxes.count() >= 6
    boxes.first.fill("11042, 1104")
    checks = boxes.first.locator("xpath=following-sibling::ul[1]/li")
    expect(checks).to_have_count(2)
    expect(checks.nth(0)).to_contain_text("11042: written like a CPT")
    expect(checks.nth(1)).to_contain_text("is not written like a CPT code")
    # the navigator counts the case as answered while the student is still in the box
    case = boxes.first.locator("xpath=ancestor::fieldset[1]").get_attribute("id")
    navigator = page.get_by_role("navigation", name="Questions")
    expect(navigator.locator(f'a[data-question="{case}"]')).to_contain_text("answered")
    expect(navigator.locator(f'a[data-question="{case}"]')).not_to_contain_text("not answered")
    expect(boxes.first).to_be_focused()
    check_a11y(page)
