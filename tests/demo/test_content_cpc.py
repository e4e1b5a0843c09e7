"""The CPT procedure course for the CPC (issue 18): every module is a lesson with its sources
and four to six questions, tagged by the CPC's own areas; every code-entry key is checked
against the code set (ICD-10-CM) or its form (CPT, HCPCS Level II)."""

import re

import pytest

from lms.courses.rules.questions import DraftQuestion, question_problems
from lms.courses.rules.quizzes import PRESETS
from lms.credentials import rules
from lms.demo.seed import COURSE_FILES, REQUIREMENTS
from tests.demo.test_content_cca_cpb import CONTENT_AREAS, CPT, HCPCS, HTML, billable, load

FILE = "cpt-procedures.toml"
CPC_AREAS = {tag for tag, _ in PRESETS["CPC"].weights}
MODULES = load(FILE)["modules"]
QUESTIONS = [q for module in MODULES for q in module["questions"]]


def test_the_course_is_seeded_and_its_modules_are_lessons_with_sources():
    assert FILE in COURSE_FILES
    assert load(FILE)["code"] == "CPT-PROC" and len(MODULES) >= 9
    for number, module in enumerate(MODULES, start=1):
        assert module["code"] == f"CPT-PROC-{number}"
        lesson = module["lesson"]
        h1 = [line for line in lesson.splitlines() if line.startswith("# ")]
        assert lesson.lstrip().startswith("# ") and len(h1) == 1, module["code"]
        assert "## " in lesson and "|---|" in lesson, module["code"]
        assert module["sources"] and all(s.strip() for s in module["sources"])
        assert 4 <= len(module["questions"]) <= 6, module["code"]
        assert 30 <= module["estimated_minutes"] <= 90


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q["stem"][:40])
def test_every_question_is_explained_sourced_and_tagged_by_a_cpc_area(q):
    assert q["stem"].strip() and q["rationale"].strip() and q["source"].strip()
    assert q["content_area"] in CONTENT_AREAS, q["content_area"]
    areas = [tag for tag in q["tags"] if ":" in tag]
    assert "CPC" in q["tags"] and len(areas) == 1 and areas[0] in CPC_AREAS, q["tags"]
    assert q["difficulty"] in ("easy", "medium", "hard")
    if q.get("kind") != "code_entry":
        correct = q["correct"] if isinstance(q["correct"], list) else [q["correct"]]
        draft = DraftQuestion(
            stem=q["stem"],
            kind=q.get("kind", "single"),
            choices=tuple((text, i in correct) for i, text in enumerate(q["choices"])),
            rationale=q["rationale"],
            difficulty=q["difficulty"],
        )
        assert question_problems(draft) == []


def test_the_code_entry_cases_are_checked_against_their_code_sets():
    cases = [q for q in QUESTIONS if q.get("kind") == "code_entry"]
    assert len(cases) >= 6
    for q in cases:
        assert q["case"].strip() and not HTML.search(q["case"])
        assert q["code_set_year"] == 2026
        for box in q["boxes"]:
            assert len(box.get("feedback", box["key"])) == len(box["key"])
            for code in (code for entry in box["key"] for code in entry):
                if box["code_set"] == "icd10cm":
                    assert billable(code), code
                elif box["code_set"] == "hcpcs":
                    assert HCPCS.fullmatch(code), code
                else:
                    assert box["code_set"] == "cpt" and CPT.fullmatch(code), code


def test_no_cpt_descriptor_is_quoted():
    """CPT's descriptors are the AMA's: the course names codes and describes procedures in its
    own words. A quoted descriptor would show as a code followed by a quoted string."""
    text = "\n".join(module["lesson"] for module in MODULES)
    assert not re.search(r"\b\d{4}[0-9FT]\b\s*[\"“]", text)


BANK = load("practice-bank-cpc.toml")["bank"]
OLDER = load("practice-exams.toml")["bank"]


@pytest.mark.parametrize("q", BANK, ids=lambda q: q["stem"][:40])
def test_every_cpc_bank_question_is_sourced_tagged_and_checked(q):
    test_every_question_is_explained_sourced_and_tagged_by_a_cpc_area(q)
    if q.get("kind") == "code_entry":
        assert q["case"].strip() and not HTML.search(q["case"])
        for box in q["boxes"]:
            assert len(box.get("feedback", box["key"])) == len(box["key"])
            for code in (code for entry in box["key"] for code in entry):
                if box["code_set"] == "icd10cm":
                    assert billable(code) and box["order"] == "first", code
                elif box["code_set"] == "hcpcs":
                    assert HCPCS.fullmatch(code), code
                else:
                    assert box["code_set"] == "cpt" and CPT.fullmatch(code), code


def test_the_practice_bank_holds_two_cpc_sittings_in_every_area():
    """Two full sittings of the CPC preset's areas (the bank's CPC questions and the older
    practice items, which carry CPC area tags too), so a student's second practice exam need
    not repeat a question of the first (the draw prefers questions not met before)."""
    held = {tag: 0 for tag in CPC_AREAS}
    for q in BANK + OLDER:
        for tag in q.get("tags", []):
            if tag in held:
                held[tag] += 1
    assert all(held[tag] >= 2 * count for tag, count in PRESETS["CPC"].weights), held
    (exam,) = [m for m in load("practice-exams.toml")["modules"] if m["code"] == "CPC-PRACTICE-2"]
    assert exam["preset"] == "CPC" and exam["time_limit_minutes"] == 240
    assert [(row["tag"], row["count"]) for row in exam["blueprint"]] == list(PRESETS["CPC"].weights)


def test_the_demo_content_holds_sixty_code_entry_cases_across_the_areas():
    cases = [
        q
        for name in COURSE_FILES
        + ["practice-bank-cpc.toml", "practice-bank-cca.toml", "practice-bank-cpb.toml"]
        for q in load(name).get("bank", [])
        + [q for module in load(name).get("modules", []) for q in module.get("questions", [])]
        if q.get("kind") == "code_entry"
    ]
    assert len(cases) >= 60
    assert len({q["content_area"] for q in cases}) >= 12


def test_e_m_beyond_the_office_is_a_module_of_its_own_and_the_cpc_requires_it():
    (module,) = [m for m in MODULES if m["title"].startswith("E/M beyond the office")]
    for family in ("99221", "99231", "99238", "99281", "99242", "99304", "99341", "99291"):
        assert family in module["lesson"], family
    assert all("CPC: E/M" in q["tags"] for q in module["questions"])
    assert module["code"] in rules.module_codes(rules.parse_requirements(REQUIREMENTS["CPC"]))
