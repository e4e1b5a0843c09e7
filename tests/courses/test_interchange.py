"""GIFT, Aiken and Moodle XML: parsing files of each format, refusing what we cannot take,
and round trips. Pure: no app."""

from pathlib import Path

import pytest

from lms.courses import interchange
from lms.courses.interchange import aiken, gift, moodle_xml
from lms.courses.rules.questions import DraftQuestion

FILES = Path(__file__).parent / "files"


def parse(name, fmt):
    return interchange.parse((FILES / name).read_bytes(), fmt)


def test_gift_reads_single_true_false_multiple_and_escapes():
    result = parse("good.gift", "gift")
    assert result.ok
    kinds = [(item.where, item.draft.kind) for item in result.items]
    assert kinds == [
        ("line 4 (Q1)", "single"),
        ("line 11 (Q2)", "true_false"),
        ("line 13 (Q3)", "multiple"),
        ("line 19", "true_false"),
    ]
    first = result.items[0].draft
    assert first.choices == (("ICD-10-CM", True), ("CPT", False), ("HCPCS Level II", False))
    assert first.rationale == "ICD-10-CM is the HIPAA code set for diagnoses."
    assert "category {I} section : evaluation" in result.items[3].draft.stem
    assert result.items[3].draft.choices == (("True", False), ("False", True))


def test_gift_reports_every_unsupported_item_with_its_line():
    result = parse("bad.gift", "gift")
    assert not result.ok
    assert [str(p) for p in result.problems] == [
        "line 6 (Essay): unsupported question type: essay",
        "line 8 (Match): unsupported question type: matching",
        "line 13 (Short): unsupported question type: short answer",
        "line 15 (Num): unsupported question type: numerical",
    ]
    assert len(result.items) == 1  # readable, but the file is refused as a whole


def test_truncated_files_are_reported():
    assert [str(p) for p in parse("truncated.gift", "gift").problems] == [
        "line 1 (Q1): the answer block has no closing } (is the file truncated?)"
    ]
    (problem,) = parse("truncated.xml", "moodle_xml").problems
    assert "not well-formed XML" in problem.reason and "truncated" in problem.reason


def test_aiken_reads_both_letter_styles_and_reports_bad_answers():
    result = parse("good.txt", "aiken")
    assert result.ok and len(result.items) == 2
    assert result.items[0].draft.choices[1] == ("NCHS", True)
    assert result.items[1].where == "line 8"
    bad = parse("bad.txt", "aiken")
    assert [str(p) for p in bad.problems] == [
        "line 1: ANSWER E is not one of the choices A, B",
        "line 6: the question has no ANSWER line (is the file truncated?)",
    ]


def test_moodle_xml_reads_html_tags_and_fractions():
    result = parse("good.xml", "moodle_xml")
    assert result.ok
    first, tf, multiple = (item.draft for item in result.items)
    assert first.stem == "Which rule sets the minimum necessary standard?"
    assert (first.content_area, first.difficulty) == ("HIPAA privacy", "easy")
    assert tf.kind == "true_false" and tf.choices == (("True", True), ("False", False))
    assert multiple.kind == "multiple"
    assert [ok for _, ok in multiple.choices] == [True, True, False]


def test_moodle_xml_reports_unsupported_types_by_question_number():
    result = parse("bad.xml", "moodle_xml")
    assert [str(p) for p in result.problems] == [
        "question 2: unsupported question type: essay",
        "question 3: unsupported question type: matching",
    ]


def test_moodle_xml_refuses_entities():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;">]><quiz>&b;</quiz>'
    )
    (problem,) = interchange.parse(bomb, "moodle_xml").problems
    assert "entities" in problem.reason
    external = (
        b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<quiz>&x;</quiz>"
    )
    assert not interchange.parse(external, "moodle_xml").ok


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"   \n\n", "The file is empty."),
        ((FILES / "latin1.txt").read_bytes(), "not UTF-8"),
        (b"just some words\n", "no answer block"),
        (b"// only a comment\n", "no questions were found"),
    ],
)
def test_unreadable_files_are_reported(data, message):
    result = interchange.parse(data, "gift")
    assert not result.ok
    assert message in str(result.problems[0])


DRAFTS = [
    DraftQuestion(
        stem="Which modifier reports a distinct procedural service: {25} or 59?",
        kind="single",
        choices=(("25", False), ("59", True), ("TC = technical", False)),
        rationale="Modifier 59 marks a distinct procedural service; 25 is for E/M.",
        content_area="CPT modifiers",
        difficulty="medium",
        code_set_year=2026,
        tags=("NCCI",),
    ),
    DraftQuestion(
        stem="Which are HCPCS Level II modifiers?",
        kind="multiple",
        choices=(("LT", True), ("RT", True), ("25", False)),
        content_area="HCPCS",
    ),
    DraftQuestion(
        stem="ICD-10-CM codes have 3 to 7 characters.",
        kind="true_false",
        choices=(("True", True), ("False", False)),
        rationale="A decimal follows the third character.",
    ),
]


def test_round_trip_moodle_xml_keeps_the_bank():
    data, skipped = moodle_xml.export(DRAFTS, "Bank")
    assert skipped == []
    back = interchange.parse(data, "moodle_xml")
    assert back.ok
    assert [item.draft for item in back.items] == DRAFTS


def test_round_trip_gift_keeps_the_bank():
    text, skipped = gift.export(DRAFTS)
    assert skipped == []
    back = interchange.parse(text.encode(), "gift")
    assert back.ok, back.problems
    assert [item.draft for item in back.items] == DRAFTS


def test_aiken_export_skips_what_it_cannot_hold():
    text, skipped = aiken.export(DRAFTS)
    assert skipped == [
        "question 2: Aiken holds single-answer questions only",
        "question 3: Aiken holds single-answer questions only",
    ]
    back = interchange.parse(text.encode(), "aiken")
    assert back.ok and back.items[0].draft.choices == DRAFTS[0].choices


def test_categories_become_content_areas_when_no_area_is_given():
    text = (
        "$CATEGORY: $course$/Coding/ICD-10-CM\n\n"
        "Which category is type 2 diabetes? {=E11 ~E10}\n\n"
        "$CATEGORY: $course$/Compliance\n\n"
        "HIPAA is a federal law. {T}\n"
    )
    result = interchange.parse(text.encode(), "gift")
    assert [i.draft.content_area for i in result.items] == ["ICD-10-CM", "Compliance"]
    xml = parse("good.xml", "moodle_xml")
    # the first question has an area tag; the others take their category's name
    assert [i.draft.content_area for i in xml.items] == [
        "HIPAA privacy",
        "Compliance",
        "Compliance",
    ]


@pytest.mark.parametrize("meta", ["[1]", '"x"', "1", "{broken", '{"tags": [1]}', '{"tags": "a"}'])
def test_a_meta_line_that_is_not_a_json_object_refuses_its_question(meta):
    text = f"// lms-meta: {meta}\nWhich code set? {{=ICD-10-CM ~CPT}}\n\nFine? {{T}}\n"
    result = interchange.parse(text.encode(), "gift")
    assert [str(p) for p in result.problems] == [
        'line 2: the "// lms-meta:" line above the question is not a JSON object such as '
        '{"tags": ["area:CPT"]}; correct the line or remove it'
    ]
    assert [item.where for item in result.items] == ["line 4"]


@pytest.mark.parametrize(
    ("year", "read"), [("²", None), ("２０２６", None), ("20266", 0), ("9" * 5000, 0)]
)
def test_a_year_tag_in_other_digits_or_too_long_is_not_a_crash(year, read):
    assert interchange.split_tags([f"year:{year}"]).get("code_set_year") == read
    text = f'// lms-meta: {{"tags": ["year:{year}"]}}\nWhich code set? {{=ICD-10-CM ~CPT}}\n'
    result = interchange.parse(text.encode(), "gift")
    assert bool(result.problems) == (read == 0)  # a year of 0 is refused with its message


@pytest.mark.parametrize("encoding", ["x-unknown", "utf-16", "ISO-8859-1", "bogus\u00e9"])
def test_moodle_xml_declaring_another_encoding_is_refused_with_a_message(encoding):
    data = f'<?xml version="1.0" encoding="{encoding}"?>\n<quiz></quiz>\n'.encode()
    (problem,) = interchange.parse(data, "moodle_xml").problems
    assert problem.where == "file" and "only UTF-8 is read" in problem.reason


def test_moodle_xml_declaring_utf8_in_any_spelling_is_read():
    for encoding in ("UTF-8", "utf8", "US-ASCII"):
        data = f"<?xml version='1.0' encoding='{encoding}'?><quiz></quiz>".encode()
        assert [p.reason for p in interchange.parse(data, "moodle_xml").problems] == [
            "no questions were found in the file"
        ]


FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("name", "as_name", "fmt"),
    [
        ("gift-from-moodle.txt", "gift-from-moodle.txt", "gift"),  # Moodle names GIFT .txt
        ("aiken-from-moodle.txt", "aiken-from-moodle.txt", "aiken"),
        ("moodle-export.xml", "questions.txt", "moodle_xml"),  # the content wins
        ("gift-from-moodle.txt", "questions.xml", "gift"),
        ("aiken-from-moodle.txt", "questions.gift", "aiken"),
    ],
)
def test_the_format_is_told_from_the_content(name, as_name, fmt):
    assert interchange.guess_format((FIXTURES / name).read_bytes(), as_name) == fmt


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"\xef\xbb\xbf  <?xml version='1.0'?><quiz/>", "moodle_xml"),  # after a BOM
        (b"<quiz>\n</quiz>", "moodle_xml"),
        (b"// a comment\n\nHIPAA is a federal law. {T}\n", "gift"),
        (b"Which is E11? {\n~E10\n=E11\n}\n", "gift"),
        (b"::Q1:: Which?\n", "gift"),
        (b"Which?\nA. one\nB. two\nanswer: b\n", None),  # Aiken writes ANSWER in capitals
    ],
)
def test_each_format_shows_itself(data, fmt):
    assert interchange.guess_format(data, "upload") == fmt


@pytest.mark.parametrize(
    ("filename", "fmt"),
    [("a.GIFT", "gift"), ("a.xml", "moodle_xml"), ("a.txt", "aiken"), ("a.doc", None), ("", None)],
)
def test_the_extension_counts_only_when_the_content_says_nothing(filename, fmt):
    assert interchange.guess_format(b"some words, no questions\n", filename) == fmt
