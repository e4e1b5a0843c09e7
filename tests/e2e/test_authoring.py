"""An author writes a course in the browser, a student takes it, the author publishes a second
version, and the student's transcript still names the first (issue 16's done-when), with
axe-core on every page of the editor."""

from __future__ import annotations

import io
import re

from PIL import Image
from playwright.sync_api import Page, expect

from lms.auth.models import Role
from tests import factories
from tests.e2e.conftest import log_in
from tests.e2e.test_journeys import correct_positions

FIRST_LESSON = """# Lesions and excision

## Measuring before you code

Code the excision of a lesion by its **excised diameter**: the lesion's widest clinical
diameter plus the narrowest margins needed to remove it completely.

![A lesion 2.1 cm across with 0.3 cm margins on each side, 2.7 cm excised](media/lesion-margins.png)

Source: AMA CPT Professional Edition, Integumentary System guidelines (described in our own
words).
"""

SECOND_LESSON = """# Wound repair

## Three classes of repair

| Repair | What it involves |
|---|---|
| Simple | a superficial wound closed in one layer |
| Intermediate | layered closure of deeper tissue, or heavy cleaning of a contaminated wound |
| Complex | more than layered closure: scar revision, debridement, extensive undermining |

Add up the lengths of repairs of the same class in the same anatomic group, then code once.
"""


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 60), (200, 120, 110)).save(buffer, format="PNG")
    return buffer.getvalue()


def _add_module(page: Page, check_a11y, code: str, title: str, minutes: str, lesson: str):
    page.get_by_role("link", name="Add a module").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^New module in"))
    check_a11y(page)
    page.get_by_label("Module code").fill(code)
    page.get_by_label("Title").fill(title)
    page.get_by_label("Estimated minutes").fill(minutes)
    page.get_by_label("Lesson (Markdown)").fill(lesson)
    page.get_by_role("button", name="Create the module").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Edit {title}")
    expect(page.get_by_text("students do not see it yet")).to_be_visible()
    check_a11y(page)


def _publish(page: Page, note: str, version: int) -> None:
    page.get_by_label("What this version changes").fill(note)
    page.get_by_role("button", name="Publish the saved draft").click()
    expect(page.get_by_text(f"Version {version} is published")).to_be_visible()


def test_an_author_writes_a_course_a_student_passes_it_and_keeps_version_1(
    browser, live_server, check_a11y
):
    author = browser.new_context().new_page()
    log_in(author, live_server, "admin@example.com")

    # The course
    author.goto(live_server.url + "/courses")
    author.get_by_role("link", name="New course").click()
    check_a11y(author)
    author.get_by_label("Course code").fill("CPT-SURG")
    author.get_by_label("Title").fill("CPT Surgery: Integumentary")
    author.get_by_label("Topic area").fill("coding")
    author.get_by_label("Description").fill("Lesions, excisions and wound repair.")
    author.get_by_role("button", name="Create the course").click()
    expect(author.get_by_role("heading", level=1)).to_have_text("Edit CPT Surgery: Integumentary")
    check_a11y(author)
    course_url = author.url

    # Its image, then two modules: one with the image and its alt text, one with a table
    author.get_by_role("link", name="Media files").click()
    author.get_by_label(re.compile("^File")).set_input_files(
        {"name": "lesion-margins.png", "mimeType": "image/png", "buffer": _png()}
    )
    author.get_by_role("button", name="Upload").click()
    expect(author.get_by_text("lesion-margins.png is uploaded.")).to_be_visible()
    author.goto(course_url)
    _add_module(author, check_a11y, "CPT-SURG-1", "Lesions and excision", "40", FIRST_LESSON)
    preview = author.locator(".preview img")
    expect(preview).to_have_attribute("alt", re.compile("^A lesion 2.1 cm across"))
    _publish(author, "First version", 1)
    module_url = author.url
    author.goto(course_url)
    _add_module(author, check_a11y, "CPT-SURG-2", "Wound repair", "45", SECOND_LESSON)
    expect(author.locator(".preview table")).to_be_visible()
    _publish(author, "First version", 1)

    # A quiz for the first module, its questions picked from a bank, previewed
    author.goto(module_url)
    author.get_by_role("link", name="Add a quiz").click()
    check_a11y(author)
    author.get_by_label("Quiz title").fill("Lesions quiz")
    coding_bank = author.locator("option", has_text=re.compile("^CODING: ")).get_attribute("value")
    author.get_by_label("Question bank").select_option(coding_bank)
    author.get_by_label("Passing score (%)").fill("80")
    author.get_by_role("button", name="Create the quiz").click()
    expect(author.get_by_text("The quiz is created")).to_be_visible()
    singles = author.locator("div.choice", has_text="· single")
    expect(singles.first).to_be_visible()
    for index in range(3):
        singles.nth(index).locator("input").check()
    author.get_by_role("button", name="Add the ticked questions").click()
    expect(author.get_by_text("3 questions added to the quiz.")).to_be_visible()
    check_a11y(author)
    author.get_by_role("link", name="Preview as a student").click()
    expect(author.locator("fieldset.question")).to_have_count(3)
    check_a11y(author)

    # A student in a cohort whose credential requires the module
    with live_server.app.app_context():
        requires = {"type": "module_completed", "module": "CPT-SURG-1", "min_score": 80}
        credential = factories.credential("SURG", tree={"type": "all_of", "children": [requires]})
        instructor = factories.user(Role.INSTRUCTOR)
        student = factories.user(Role.STUDENT, name="Robin Surgery")
        factories.cohort(instructor, credential, [student], name="Surgery coding, spring")
        email, student_id = student.email, student.id
    learner = browser.new_context().new_page()
    log_in(learner, live_server, email, factories.PASSWORD)
    learner.goto(live_server.url + "/courses")
    learner.get_by_role("link", name="Lesions and excision").click()
    expect(learner.locator("article.lesson img")).to_have_attribute(
        "alt", re.compile("^A lesion 2.1 cm across")
    )
    learner.get_by_role("button", name="Start the quiz").click()
    for group, position in zip(
        learner.locator("fieldset.question").all(),
        correct_positions(live_server, learner),
        strict=True,
    ):
        group.locator("input[type=radio]").nth(position).check()
    learner.get_by_role("button", name="Submit answers").click()
    expect(learner.get_by_text("You passed with 100%.")).to_be_visible()

    # The author edits the lesson and publishes version 2
    author.goto(module_url)
    expect(author.get_by_text("Before you change this module")).to_be_visible()
    expect(author.get_by_text("Cohort: Surgery coding, spring")).to_be_visible()
    lesson = author.get_by_label("Lesson (Markdown)")
    lesson.fill(FIRST_LESSON.replace("completely.", "completely, as the note documents."))
    author.get_by_role("button", name="Save the draft").click()
    expect(author.get_by_text("The draft is saved.")).to_be_visible()
    _publish(author, "Say that the note documents the margins", 2)
    author.get_by_role("link", name="Versions").click()
    expect(author.get_by_role("heading", name="Version 2 against version 1")).to_be_visible()
    expect(author.locator("tr.diff-added")).to_contain_text("as the note documents")
    check_a11y(author)

    # The student's transcript still names the version studied
    learner.goto(f"{live_server.url}/transcripts/{student_id}")
    row = learner.locator("tr", has_text="CPT-SURG-1 Lesions and excision")
    expect(row).to_contain_text("Version 1")
    check_a11y(learner)
    learner.goto(live_server.url + "/courses")
    learner.get_by_role("link", name="Lesions and excision").click()
    expect(learner.locator("article.lesson")).to_contain_text("as the note documents")
