"""An import's limits (bytes, questions) and the preview's summary. Pure: no app."""

import pytest

from lms.courses import interchange
from lms.courses.interchange import Limits

SMALL = Limits(max_bytes=4096, max_questions=3)


def gift(count: int, broken_after: bool = False) -> bytes:
    text = "\n\n".join(f"Question {n}? {{=right ~wrong}}" for n in range(count))
    if broken_after:
        text += "\n\nA question the reader never reaches {"
    return text.encode()


def aiken(count: int) -> bytes:
    return "\n\n".join(f"Q{n}?\nA. one\nB. two\nANSWER: A" for n in range(count)).encode()


def xml(count: int) -> bytes:
    question = (
        '<question type="multichoice"><questiontext><text>Q?</text></questiontext>'
        '<answer fraction="100"><text>a</text></answer>'
        '<answer fraction="0"><text>b</text></answer></question>'
    )
    return ("<quiz>" + question * count + "</quiz>").encode()


def test_a_file_over_the_byte_limit_is_refused_unread():
    result = interchange.parse(b"x" * 4097, "gift", SMALL)
    assert result.too_large and not result.items
    assert [str(p) for p in result.problems] == [
        "file: the file is larger than 4 KB, the most one import takes: split it into smaller files"
    ]
    assert interchange.parse(gift(3)[:4096], "gift", SMALL).ok


@pytest.mark.parametrize(
    ("data", "fmt", "where"),
    [
        (gift(4, broken_after=True), "gift", "line 7"),
        (aiken(4), "aiken", "line 16"),
        (xml(4), "moodle_xml", "question 4"),
    ],
)
def test_reading_stops_at_the_first_question_past_the_limit(data, fmt, where):
    result = interchange.parse(data, fmt, SMALL)
    assert result.too_large and not result.ok
    assert [str(p) for p in result.problems] == [
        f"{where}: the file holds more than 3 questions, the most one import takes: split it "
        "into smaller files (reading stopped here)"
    ]  # the broken question after the limit is never read
    assert len(result.items) <= 3
    assert interchange.parse(data, fmt, Limits(max_questions=4)).ok is (fmt != "gift")


def test_the_limits_come_from_the_settings_or_default():
    assert Limits.from_config({}) == Limits(max_bytes=2 * 1024 * 1024, max_questions=2000)
    config = {"IMPORT_MAX_BYTES": 1000, "IMPORT_MAX_QUESTIONS": "50"}
    assert Limits.from_config(config) == Limits(max_bytes=1000, max_questions=50)


def test_the_summary_counts_kinds_and_areas_and_shows_the_first_problems():
    text = "\n\n".join(
        [f"$CATEGORY: $course$/ICD-10-CM\n\nQ{n}? {{=a ~b}}" for n in range(3)]
        + ["$CATEGORY: $course$/CPT\n\nTrue? {T}", "Multi? {~%50%a ~%50%b ~%-100%c}"]
        + [f"Essay {n}? {{}}" for n in range(60)]
    )
    result = interchange.parse(text.encode(), "gift", Limits(max_questions=100))
    summary = interchange.summarise(result)
    assert summary.questions == 5
    assert summary.by_kind == (
        ("multiple choice, one answer", 3),
        ("multiple choice, several answers", 1),
        ("true / false", 1),
    )
    assert summary.by_area == (("ICD-10-CM", 3), ("CPT", 2))
    assert len(summary.problems) == 50 and summary.more_problems == 10
    assert summary.problems[0].endswith("unsupported question type: essay")
    few = interchange.summarise(result, problems=100, areas=1)
    assert few.more_problems == 0 and few.by_area == (("ICD-10-CM", 3),) and few.more_areas == 1
