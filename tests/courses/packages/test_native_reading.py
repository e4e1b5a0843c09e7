"""The package's reading side without a database: a question of a kind Moodle XML cannot
carry (such as code entry) travels as JSON in the content data shape, unchanged and in its
place among the others."""

from __future__ import annotations

from datetime import UTC, datetime

from lms.courses.packages import native
from tests.courses.packages.helpers import files_of

CODE_ENTRY = {
    "kind": "code_entry",
    "stem": "Assign the CPT code.",
    "case": "Invented patient; debridement of 25 sq cm of subcutaneous tissue.",
    "rationale": "Why.",
    "tags": ["CPC"],
    "boxes": [{"label": "CPT", "code_set": "cpt", "order": "any", "key": [["11042"]]}],
}
CHOICE = {
    "stem": "Pick one.",
    "kind": "single",
    "choices": ["A", "B"],
    "correct": 1,
    "rationale": "",
    "content_area": "",
    "difficulty": "",
    "tags": [],
}


def test_a_question_moodle_xml_cannot_carry_passes_through_as_json():
    data = {
        "code": "X",
        "title": "X",
        "topic_area": "Coding",
        "modules": [
            {
                "code": "X-1",
                "title": "One",
                "estimated_minutes": 5,
                "questions": [CHOICE, CODE_ENTRY, CHOICE],
            }
        ],
    }
    body = native.build(data, {}, datetime(2026, 12, 5, tzinfo=UTC))
    names = set(files_of(body))
    assert {"questions/01-X-1.xml", "questions/01-X-1.json"} <= names
    report = native.read_package(body, "x.zip")
    assert report.data["modules"][0]["questions"] == [CHOICE, CODE_ENTRY, CHOICE]
