"""The CCA and CPB content (issue 18): the inpatient and billing-operations courses and the two
practice-bank files. Every key code is checked against the real code set (ICD-10-CM) or its
form (ICD-10-PCS, HCPCS Level II), and every question is sourced and tagged from the shared
vocabulary."""

import re
import tomllib
from collections import Counter

import pytest

from lms.courses.codesets import icd10cm
from lms.courses.rules.questions import DraftQuestion, question_problems
from lms.demo.seed import CONTENT_DIR, COURSE_FILES

COURSES = ["inpatient-coding.toml", "billing-operations.toml"]
BANKS = ["practice-bank-cca.toml", "practice-bank-cpb.toml"]

CONTENT_AREAS = {
    "Medical terminology", "Anatomy", "ICD-10-CM", "ICD-10-PCS", "CPT procedures",
    "Integumentary", "Musculoskeletal", "Respiratory and cardiovascular", "Digestive",
    "Urinary, genital and endocrine", "Nervous, eye and ear", "Anesthesia", "Radiology",
    "Pathology and laboratory", "Medicine", "E/M", "Modifiers", "HCPCS Level II", "Compliance",
    "Insurance and payers", "Claims", "Reimbursement", "Denials and collections",
    "Health records", "Health IT", "Privacy and confidentiality",
}  # fmt: skip
# The exam area tags and the number of questions one sitting draws from each.
CPB_AREAS = {
    "CPB: Insurance and payers": 20, "CPB: Claims and the revenue cycle": 25,
    "CPB: Payment and reimbursement": 20, "CPB: Denials, appeals and A/R": 20,
    "CPB: Patient collections": 10, "CPB: Compliance and regulations": 20,
    "CPB: Coding for billers": 20,
}  # fmt: skip
CCA_AREAS = {
    "CCA: Clinical classification systems": 36, "CCA: Reimbursement methodologies": 19,
    "CCA: Health records and data content": 20, "CCA: Compliance": 14,
    "CCA: Information technologies": 8, "CCA: Confidentiality and privacy": 8,
}  # fmt: skip
AREA_TAGS = CPB_AREAS | CCA_AREAS

PCS = re.compile(r"[0-9A-HJ-NP-Z]{7}")
HCPCS = re.compile(r"[A-V][0-9]{4}(-[A-Z0-9]{2})*")
CPT = re.compile(r"([0-9]{5}|[0-9]{4}[FT])(-[A-Z0-9]{2})*")
HTML = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")


def load(name):
    with (CONTENT_DIR / name).open("rb") as handle:
        return tomllib.load(handle)


def questions(name):
    data = load(name)
    found = list(data.get("bank", []))
    for module in data.get("modules", []):
        found += module.get("questions", [])
    return found


ALL = [(name, q) for name in COURSES + BANKS for q in questions(name)]


def billable(code):
    """Billable in simple-icd-10-cm's April 1, 2026 tabular list: the package's own answer
    (``is_valid_item`` and ``is_leaf``) and the app's checker must agree."""
    cm = icd10cm.tabular()
    direct = cm.is_valid_item(code) and cm.is_leaf(code)
    assert direct == icd10cm.check(code).billable, code
    return direct


def test_the_code_set_check_itself_tells_billable_from_not():
    assert billable("E11.9") and billable("S52.521A") and billable("T40.2X1A")
    assert not billable("E11")  # a category that needs more characters
    assert not billable("S52.521")  # no 7th character
    assert not billable("E11.99")  # no such code


def test_the_new_courses_are_seeded():
    assert set(COURSES) <= set(COURSE_FILES)
    for name in BANKS:
        assert "modules" not in load(name), name


@pytest.mark.parametrize("name", COURSES)
def test_each_module_has_one_h1_lesson_sources_and_four_to_six_questions(name):
    data = load(name)
    assert data["code"] in ("INPT", "BILLOPS")
    for number, module in enumerate(data["modules"], start=1):
        assert module["code"] == f"{data['code']}-{number}"
        lesson = module["lesson"]
        outside_code = re.sub(r"```.*?```", "", lesson, flags=re.S)
        h1 = [line for line in outside_code.splitlines() if line.startswith("# ")]
        assert lesson.startswith("# ") and len(h1) == 1, module["code"]
        assert "## " in lesson and "|---|" in lesson, module["code"]
        assert module["sources"] and all(s.strip() for s in module["sources"]), module["code"]
        assert 4 <= len(module["questions"]) <= 6, module["code"]
        # until the code-entry loader is merged, course modules hold multiple choice only
        assert all(q.get("kind", "single") != "code_entry" for q in module["questions"])


@pytest.mark.parametrize("name,q", ALL, ids=lambda v: v if isinstance(v, str) else "")
def test_every_question_is_explained_sourced_and_tagged(name, q):
    assert q["stem"].strip() and q["rationale"].strip() and q["source"].strip(), q["stem"]
    assert q["content_area"] in CONTENT_AREAS, q["content_area"]
    exams = {tag for tag in q["tags"] if ":" not in tag}
    areas = [tag for tag in q["tags"] if ":" in tag]
    assert exams and exams <= {"CCA", "CPB"}, q["tags"]
    assert areas and all(tag in AREA_TAGS for tag in areas), q["tags"]
    # one area tag per exam served, and an area tag only for an exam the question names
    assert sorted(tag.split(":")[0] for tag in areas) == sorted(exams), q["tags"]
    assert q["difficulty"] in ("easy", "medium", "hard")


@pytest.mark.parametrize("name,q", ALL, ids=lambda v: v if isinstance(v, str) else "")
def test_every_multiple_choice_question_is_well_formed(name, q):
    if q.get("kind") == "code_entry":
        return
    correct = q["correct"] if isinstance(q["correct"], list) else [q["correct"]]
    draft = DraftQuestion(
        stem=q["stem"],
        kind=q.get("kind", "single"),
        choices=tuple((text, i in correct) for i, text in enumerate(q["choices"])),
        rationale=q["rationale"],
        difficulty=q["difficulty"],
        code_set_year=q.get("code_set_year"),
    )
    assert question_problems(draft) == [], q["stem"]


def code_entry_questions():
    return [q for name in BANKS for q in questions(name) if q.get("kind") == "code_entry"]


def test_there_are_at_least_twenty_code_entry_cases_with_every_code_set_checked():
    cases = code_entry_questions()
    assert len(cases) >= 20
    sets = Counter(box["code_set"] for q in cases for box in q["boxes"])
    assert sets["icd10cm"] >= 15 and sets["icd10pcs"] >= 8 and sets["hcpcs"] >= 5


@pytest.mark.parametrize("q", code_entry_questions(), ids=lambda q: q["stem"][:30])
def test_every_key_code_exists_in_its_code_set(q):
    assert q["case"].strip() and not HTML.search(q["case"]), q["stem"]
    assert q["code_set_year"] == 2026
    for box in q["boxes"]:
        assert box["order"] in ("any", "first", "exact") and box["label"].strip()
        assert box["key"] and all(alternatives for alternatives in box["key"])
        assert len(box.get("feedback", box["key"])) == len(box["key"])
        for alternatives in box["key"]:
            for code in alternatives:
                if box["code_set"] == "icd10cm":
                    assert billable(code), f"{code} is not a billable ICD-10-CM code"
                    assert "." in code or len(code) == 3, code
                elif box["code_set"] == "icd10pcs":
                    assert PCS.fullmatch(code), code
                elif box["code_set"] == "hcpcs":
                    assert HCPCS.fullmatch(code), code
                else:
                    assert box["code_set"] == "cpt" and CPT.fullmatch(code), code
        if box["code_set"] == "icd10cm" and len(box["key"]) > 1:
            assert box["order"] == "first", "inpatient diagnoses are keyed principal first"


def test_every_icd10cm_code_named_in_a_course_question_choice_is_billable():
    """A choice such as 'E11.9 and Z79.84' names real, billable codes (wrong answers included:
    a distractor is wrong for its reasoning, never for an invented code). A code written with a
    trailing dash ('T45.1X5-') names a subcategory on purpose and is left out."""
    pattern = re.compile(r"\b([A-Z][0-9][0-9A-Z]\.[0-9A-Z]{1,4})\b(?!-)")
    for _, q in ALL:
        for choice in q.get("choices", []):
            for code in pattern.findall(choice):
                assert billable(code), f"{code} in {q['stem']!r}"


def area_counts():
    counts = Counter()
    for name in BANKS:
        for q in questions(name):
            counts.update(tag for tag in q["tags"] if ":" in tag)
    return counts


@pytest.mark.parametrize("tag", sorted(AREA_TAGS))
def test_the_practice_banks_fill_each_exam_area(tag):
    """Each area holds two sittings' worth of questions in these two files alone, so two
    practice exams need not repeat a question (the PRACTICE course's bank also holds the older
    practice-exams.toml questions)."""
    assert area_counts()[tag] >= 2 * AREA_TAGS[tag], (tag, area_counts()[tag])
