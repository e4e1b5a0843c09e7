"""GIFT and Moodle XML as Moodle writes and reads them: files shaped like Moodle's own exports
(``fixtures/``, written by hand), grades from Moodle's list only, line breaks and feedback
kept, images and grades our kinds cannot carry refused with the reason. Pure: no app."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.courses import interchange
from lms.courses.interchange import gift, grades, moodle_xml
from lms.courses.rules.questions import DraftQuestion, question_problems

FIXTURES = Path(__file__).parent / "fixtures"
CHOICE_FEEDBACK = "Feedback on the choices (imported: this app keeps no feedback per choice):"


def read(name, fmt):
    return interchange.parse((FIXTURES / name).read_bytes(), fmt)


def blank_lines_inside_braces(text: str) -> list[int]:
    depth, found = 0, []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() and depth > 0:
            found.append(number)
        protected = gift._protect(line)
        depth += protected.count("{") - protected.count("}")
    return found


NO_RATIONALE = [
    DraftQuestion(
        stem="Which is a CPT code?", kind="single", choices=(("99213", True), ("E11", False))
    ),
    DraftQuestion(
        stem="Which are HCPCS Level II?",
        kind="multiple",
        choices=(("J1100", True), ("99213", False)),
    ),
    DraftQuestion(
        stem="ICD-10-CM has 7 characters at most.",
        kind="true_false",
        choices=(("True", True), ("False", False)),
    ),
]


def test_gift_export_has_no_blank_line_inside_braces_and_reads_back():
    text, skipped = gift.export(NO_RATIONALE)
    assert skipped == [] and blank_lines_inside_braces(text) == []
    back = interchange.parse(text.encode(), "gift")
    assert back.ok, back.problems
    assert [item.draft for item in back.items] == NO_RATIONALE


def test_gift_export_escapes_backslashes_and_keeps_line_breaks():
    draft = DraftQuestion(
        stem="Path C:\\new\\codes {draft}\nSecond line: = ~ # 100%",
        kind="single",
        choices=(("a\\b", True), ("~c", False)),
        rationale="Line one.\nLine two with \\n literally.",
    )
    text, _ = gift.export([draft])
    assert blank_lines_inside_braces(text) == []
    assert interchange.parse(text.encode(), "gift").items[0].draft == draft


words = (
    st.text(alphabet=st.sampled_from("abcXYZ019 ~=#{}:\\%<>&/;'\"-_.()éЖ"), min_size=1, max_size=12)
    .map(lambda w: " ".join(w.split()))
    .filter(bool)
)
texts = st.lists(st.lists(words, min_size=1, max_size=4).map(" ".join), min_size=1, max_size=3).map(
    "\n".join
)


@st.composite
def drafts(draw):
    kind = draw(st.sampled_from(["single", "multiple", "true_false"]))
    if kind == "true_false":
        truth = draw(st.booleans())
        choices = (("True", truth), ("False", not truth))
    else:
        labels = draw(st.lists(words, min_size=2, max_size=12, unique=True))
        right = draw(st.integers(1, 1 if kind == "single" else len(labels)))
        choices = tuple((label, place < right) for place, label in enumerate(labels))
    draft = DraftQuestion(
        stem=draw(texts),
        kind=kind,
        choices=choices,
        rationale=draw(st.one_of(st.just(""), texts)),
        content_area=draw(st.sampled_from(["", "CPT", "ICD-10-CM"])),
        difficulty=draw(st.sampled_from(["", "easy", "hard"])),
        code_set_year=draw(st.sampled_from([None, 2026])),
    )
    assert question_problems(draft) == []
    return draft


@settings(max_examples=150, deadline=None)
@given(st.lists(drafts(), min_size=1, max_size=4))
def test_our_exports_read_back_as_they_were(questions):
    text, _ = gift.export(questions)
    assert blank_lines_inside_braces(text) == []
    data, _ = moodle_xml.export(questions, "Bank")
    for exported, fmt in ((text.encode(), "gift"), (data, "moodle_xml")):
        back = interchange.parse(exported, fmt)
        assert back.ok, back.problems
        assert [item.draft for item in back.items] == questions


def multiple(right: int, wrong: int) -> DraftQuestion:
    return DraftQuestion(
        stem=f"{right} right of {right + wrong}",
        kind="multiple",
        choices=tuple((f"choice {n}", n < right) for n in range(right + wrong)),
    )


@pytest.mark.parametrize("right", range(1, 21))
@pytest.mark.parametrize("wrong", [0, 1, 10, 11, 12])
def test_exported_grades_are_moodles_and_a_fully_right_answer_scores_100(right, wrong):
    draft = multiple(right, max(wrong, 2 - right))  # a question has two choices at least
    given = grades.export_grades(draft)
    assert set(given) <= set(grades.GRADES)
    assert round(sum(float(g) for g in given if float(g) > 0), 2) == 100
    assert [float(g) > 0 for g in given] == [ok for _, ok in draft.choices]
    data, skipped = moodle_xml.export([draft], "Bank")
    assert skipped == [] and b'fraction="-9.09091"' not in data
    assert interchange.parse(data, "moodle_xml").items[0].draft == draft


def test_a_question_moodle_cannot_grade_is_left_out_and_reported():
    questions = [multiple(21, 1), NO_RATIONALE[0]]
    data, skipped = moodle_xml.export(questions, "Bank")
    reason = "more than 20 right choices: Moodle's grades (5% at the least) cannot add up to 100%"
    assert skipped == [f"question 1: {reason}"]
    assert reason.encode() in data.split(b"<question")[0]  # a comment before the questions
    assert [i.draft for i in interchange.parse(data, "moodle_xml").items] == questions[1:]
    text, skipped = gift.export(questions)
    assert (
        skipped == [f"question 1: {reason}"] and "// Left out (Moodle could not grade it): " in text
    )
    assert [i.draft for i in interchange.parse(text.encode(), "gift").items] == questions[1:]


def test_moodle_xml_export_reads_with_line_breaks_feedback_and_entities():
    result = read("moodle-export.xml", "moodle_xml")
    assert result.ok, result.problems
    single, true_false, several = (item.draft for item in result.items)
    assert single.stem == (
        "A billing clerk asks for a patient's whole chart to code one visit.\n"
        "Which HIPAA rule sets the minimum necessary standard?"
    )
    assert single.choices == (
        ("Privacy Rule", True),
        ("Security Rule", False),
        ("Stark Law & its exceptions", False),
    )
    assert single.rationale == (
        "The Privacy Rule limits a use or disclosure to the minimum necessary.\n\n"
        f"{CHOICE_FEEDBACK}\n"
        "- Privacy Rule: Yes: 45 CFR 164.502(b).\n"
        "- Security Rule: The Security Rule protects electronic records; it does not set this "
        "standard."
    )
    assert (single.content_area, single.difficulty) == ("HIPAA privacy", "easy")
    assert true_false.stem.splitlines() == [
        "The False Claims Act applies to claims paid by Medicare.",
        "Answer true or false.",
    ]
    assert true_false.rationale == f"{CHOICE_FEEDBACK}\n- True: Medicare is a federal program."
    assert several.kind == "multiple" and [ok for _, ok in several.choices] == [1, 1, 1, 0]
    assert several.content_area == "Compliance"


def test_moodles_gift_export_reads_with_names_formats_and_feedback():
    result = read("gift-from-moodle.txt", "gift")
    assert result.ok, result.problems
    assert [item.where for item in result.items] == [
        "line 6 (Type 2 diabetes)",
        "line 15 (Excludes1)",
        "line 23 (HCPCS sections)",
        "line 32 (Modifier 59)",
    ]
    diabetes, excludes, sections, modifier = (item.draft for item in result.items)
    assert diabetes.stem == (
        "A 58-year-old patient has type 2 diabetes mellitus without complications.\n\n"
        "Which code is reported?"
    )
    assert diabetes.choices == (("E11.9", True), ("E10.9", False), ("O24.419", False))
    assert diabetes.rationale.endswith(
        f"{CHOICE_FEEDBACK}\n- E11.9: Right: E11.9 is type 2 without complications.\n"
        "- E10.9: E10 is type 1."
    )
    assert excludes.choices == (("True", True), ("False", False))
    assert excludes.rationale == (
        'Excludes1 = "not coded here".\n\n'
        f"{CHOICE_FEEDBACK}\n- True: Yes.\n- False: Read the note again."
    )
    assert sections.kind == "multiple" and sections.content_area == "HCPCS Level II"
    assert modifier.stem == "Which modifier reports a distinct procedural service?\nPick one."


PARTIAL = "gives partial credit (50%), which a {} question here does not: one right choice "
PARTIAL += "scores 100%, any other 0"
NOT_MOODLES = (
    "is not one Moodle accepts (100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, 40, 33.33333, "
    "30, 25, 20, 16.66667, 14.28571, 12.5, 11.11111, 10, 5, 0 and the same negative)"
)
TOO_GENEROUS = (
    "the right choices' grades add up to 150%, not 100% (here every right choice must be "
    "picked for the mark)"
)


def test_moodle_xml_items_we_cannot_carry_are_refused_by_name_with_the_reason():
    result = read("moodle-refused.xml", "moodle_xml")
    assert not result.items
    assert [str(p) for p in result.problems] == [
        "question 1 (Heart chambers): images and audio are not imported yet",
        "question 2 (Heart sounds): images and audio are not imported yet",
        "question 3 (Nearly right): choice 2 " + PARTIAL.format("single-answer"),
        f"question 4 (Odd grade): choice 2's grade 45% {NOT_MOODLES}",
        f"question 5 (Too generous): {TOO_GENEROUS}",
        "question 6 (Half true): choice 1 " + PARTIAL.format("true/false"),
        "question 7 (Penalty): choice 2 takes marks away (-50%); a wrong answer here scores 0",
    ]


def test_gift_items_we_cannot_carry_are_refused_by_name_with_the_reason():
    result = read("gift-refused.txt", "gift")
    assert not result.items
    assert [str(p) for p in result.problems] == [
        "line 6 (Heart chambers): images and audio are not imported yet",
        "line 13 (Nearly right): choice 2 " + PARTIAL.format("single-answer"),
        f"line 21 (Odd grade): choice 1's grade 45% {NOT_MOODLES}",
        f"line 29 (Too generous): {TOO_GENEROUS}",
    ]


@pytest.mark.parametrize(
    ("percent", "grade"),
    [(100, "100"), (33.333333, "33.33333"), (66.66666, "66.66667"), (-12.5, "-12.5"), (0, "0")],
)
def test_moodles_grades_match_within_its_tolerance(percent, grade):
    assert grades.moodle_grade(percent) == grade


@pytest.mark.parametrize("percent", [33.3, -9.09091, 45, 101, float("nan"), float("inf")])
def test_other_grades_are_not_moodles(percent):
    assert grades.moodle_grade(percent) is None
