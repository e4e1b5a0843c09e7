"""The ICD-10-CM checks, on real codes from the tabular list simple-icd-10-cm ships."""

import pytest

from lms.courses.codesets import MAX_CODES, icd10cm
from lms.courses.codesets import forms as code_forms


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("E11.9", "E11.9"),
        ("e119", "E11.9"),
        (" e 11 . 9 ", "E11.9"),
        ("S52521", "S52.521"),
        ("s52.521a", "S52.521A"),
        ("E11", "E11"),
        ("t360x1a", "T36.0X1A"),
    ],
)
def test_case_spaces_and_a_missing_dot_are_normalised(typed, normal):
    assert icd10cm.normalise(typed) == normal


@pytest.mark.parametrize(
    "junk", ["", "junk", "E1", "11.9", "E11.", "E11.12345", "A00-A09", "1", "E11/9", "E1.19"]
)
def test_text_not_shaped_like_a_code_is_refused(junk):
    assert icd10cm.normalise(junk) is None
    result = icd10cm.check(junk)
    assert not result.exists and not result.billable
    assert "is not written like an ICD-10-CM code" in result.message


def test_a_billable_code():
    result = icd10cm.check("e119")
    assert (result.code, result.exists, result.billable) == ("E11.9", True, True)
    assert not result.needs_more_characters and not result.needs_seventh_character
    assert result.message == (
        "E11.9 Type 2 diabetes mellitus without complications: valid and billable"
    )


def test_a_category_needs_more_characters():
    result = icd10cm.check("E11")
    assert result.exists and not result.billable
    assert result.needs_more_characters and not result.needs_seventh_character
    assert result.message == (
        "E11 Type 2 diabetes mellitus: a category, not billable: it needs more characters"
    )


def test_a_code_missing_its_seventh_character():
    result = icd10cm.check("S52521")
    assert result.exists and not result.billable and result.needs_seventh_character
    assert result.seventh_characters == ("A", "D", "G", "K", "P", "S")
    assert result.message.endswith("needs a 7th character (A, D, G, K, P, S)")
    full = icd10cm.check("S52.521A")
    assert full.billable and full.description.endswith("initial encounter for closed fracture")


def test_no_such_code():
    result = icd10cm.check("Z99.99")
    assert (result.code, result.exists, result.billable) == ("Z99.99", False, False)
    assert result.message == "Z99.99: no such ICD-10-CM code"
    # a chapter's number or a block's range is in the package's tree but is not a code
    assert icd10cm.is_code("E08")
    assert not icd10cm.is_code("4") and not icd10cm.is_code("E08-E13")


def test_a_missing_placeholder_x_is_suggested():
    result = icd10cm.check("S00.00A")
    assert not result.exists and result.suggestion == "S00.00XA"
    assert "did you mean S00.00XA?" in result.message
    assert icd10cm.check("S00.00XA").billable


def test_at_most_fifty_codes_in_one_check():
    assert len(icd10cm.check_many(["E11.9"] * MAX_CODES)) == MAX_CODES
    with pytest.raises(ValueError, match="at most 50 codes"):
        icd10cm.check_many(["E11.9"] * (MAX_CODES + 1))
    with pytest.raises(ValueError, match="at most 50 codes"):
        icd10cm.excludes1_conflicts(["E11.9"] * (MAX_CODES + 1))


def test_type_1_and_type_2_diabetes_together_are_an_excludes1_pair():
    # E11's Excludes1 names "type 1 diabetes mellitus (E10.-)"; E10's names E11.-
    conflicts = icd10cm.excludes1_conflicts(["E11.9", "e10.9", "S52.521A"])
    assert conflicts == [
        ("E11.9", "E10.9", "Excludes1 at E11: type 1 diabetes mellitus (E10.-)"),
    ]


def test_a_range_in_an_ancestors_note_is_matched():
    # R73 (hyperglycemia) excludes "diabetes mellitus (E08-E13)": a range of categories
    conflicts = icd10cm.excludes1_conflicts(["R73.9", "E11.65"])
    assert conflicts == [("R73.9", "E11.65", "Excludes1 at R73: diabetes mellitus (E08-E13)")]


def test_codes_without_an_excludes1_between_them_pass():
    assert icd10cm.excludes1_conflicts(["E11.9", "I10", "Z79.4", "Z99.99", "junk"]) == []


def test_references_read_codes_and_ranges_and_skip_conditions():
    refs = icd10cm.references("neonatal disorders (P70.0-P70.2), diabetes (E08.-, E09.-)")
    assert [(r.low, r.high) for r in refs] == [("P700", "P702"), ("E08", "E08"), ("E09", "E09")]
    assert icd10cm.references("concussion (S06.0X- with seventh character A)") == []
    assert icd10cm.references("diabetes (E08-E13 with .44)") == []
    spaced = icd10cm.references("fever (I01.0 -I01.9), apnea (P28.3- - P28.4-), (K50.014,)")
    assert [(r.low, r.high) for r in spaced] == [
        ("I010", "I019"),
        ("P283", "P284"),
        ("K50014",) * 2,
    ]
    low_high = icd10cm.Reference("E08", "E13")
    assert low_high.covers("E11.65") and low_high.covers("E13.9")
    assert not low_high.covers("E14") and not low_high.covers("E07.9")


def test_a_codes_page_gathers_the_notes_above_it():
    details = icd10cm.details("E11.9")
    assert [name for name, _ in details.ancestors] == ["E11", "block E08-E13", "chapter 4"]
    kinds = {(note.kind.split(" (")[0], note.where) for note in details.notes}
    assert ("Excludes1", "E11") in kinds and ("Use additional code", "E11") in kinds
    own = [note for note in details.notes if note.own]
    assert own and all(note.where == "E11.9" for note in own)
    assert dict(icd10cm.details("S52.521").seventh_characters)["A"] == (
        "initial encounter for closed fracture"
    )


@pytest.mark.parametrize(
    ("code_set", "code", "good"),
    [
        ("cpt", "99213", True),
        ("cpt", "0001F", True),
        ("cpt", "0042t", True),
        ("cpt", "0001U", True),
        ("cpt", "9921", False),
        ("cpt", "99213F", False),
        ("hcpcs", "j1100", True),
        ("hcpcs", "J110", False),
        ("hcpcs", "11000", False),
        ("pcs", "0DTJ4ZZ", True),
        ("pcs", "0DTJ4ZO", False),  # O is not in the PCS alphabet
        ("pcs", "0DTJ4ZI", False),
        ("pcs", "0DTJ4Z", False),
    ],
)
def test_other_code_sets_are_checked_by_form_only(code_set, code, good):
    result = code_forms.check(code_set, code)
    assert result.well_formed is good
    assert result.code == code.upper()
    if good:
        assert result.message.endswith("(form only)")
    else:
        assert "not a" in result.message or "not an" in result.message
