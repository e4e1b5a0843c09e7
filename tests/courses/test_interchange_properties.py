"""Junk in, problems out: the three question parsers and the quiz answer parser get bytes,
text and half-right files that hypothesis makes up, and must answer with items and problems
(or, for answers, ids or a refusal), never an exception. Pure: no app."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from lms.courses import interchange
from lms.courses.forms import parse_answers
from lms.courses.rules.questions import question_problems
from lms.errors import InvalidInput
from lms.forms import MAX_ID

FORMATS = st.sampled_from(interchange.FORMATS)
# The characters each format gives a meaning to, and some that broke parsers elsewhere.
SPECIAL = "{}=~#%:\\/[]<>&;\"'-.$\n\t ²٣ÀЖ📚\x00\r"
junk_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(SPECIAL),
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
    ),
    max_size=300,
)
words = st.text(alphabet=st.sampled_from("abcXYZ 12²%-=~#{}:<>&/\\\n"), max_size=20)
numbers = st.one_of(
    st.sampled_from(["100", "-100", "50", "33.33333", "0", "nan", "inf", "1e400", "", "x"]),
    st.floats(allow_nan=True).map(str),
    words,
)


def well_formed(result: interchange.ParseResult) -> None:
    """What every parse must give back: storable items and problems that say where and why."""
    assert isinstance(result, interchange.ParseResult)
    assert result.items or result.problems
    for item in result.items:
        assert question_problems(item.draft) == []
    for problem in result.problems:
        assert isinstance(problem.where, str) and problem.where
        assert isinstance(problem.reason, str) and problem.reason


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), FORMATS)
def test_any_bytes_give_items_or_problems(data, fmt):
    well_formed(interchange.parse(data, fmt))


@settings(max_examples=300, deadline=None)
@given(junk_text, FORMATS)
def test_any_text_gives_items_or_problems(text, fmt):
    well_formed(interchange.parse(text.encode("utf-8"), fmt))


gift_answers = st.lists(
    st.tuples(st.sampled_from(["=", "~", "~%50%", "~%-100%", "=%50%", "~%x%", "~%100%"]), words),
    max_size=5,
).map(lambda answers: " ".join(sign + text for sign, text in answers))
gift_question = st.builds(
    lambda meta, title, stem, answers, feedback, after: (
        (f"// lms-meta: {meta}\n" if meta is not None else "")
        + (f"::{title}::" if title is not None else "")
        + f"{stem} {{{answers}{'####' + feedback if feedback else ''}}}{after}"
    ),
    st.one_of(st.none(), junk_text.filter(lambda t: "\n" not in t), st.just('{"tags": [1]}')),
    st.one_of(st.none(), words),
    words,
    gift_answers,
    st.one_of(st.none(), words),
    st.sampled_from(["", " after", "\n", "}", "{"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(gift_question, min_size=1, max_size=4))
def test_gift_shaped_junk_gives_items_or_problems(questions):
    well_formed(interchange.parse("\n\n".join(questions).encode("utf-8"), "gift"))


def _element(name: str, text: str, raw: bool, **attributes: str) -> str:
    attrs = "".join(f" {key}={quoteattr(value)}" for key, value in attributes.items())
    return f"<{name}{attrs}><text>{text if raw else escape(text)}</text></{name}>"


xml_question = st.builds(
    lambda kind, fmt, stem, answers, single, raw: (
        f"<question type={quoteattr(kind)}>"
        + _element("questiontext", stem, raw, format=fmt)
        + (f"<single>{escape(single)}</single>" if single is not None else "")
        + "".join(_element("answer", text, raw, fraction=fraction) for fraction, text in answers)
        + "</question>"
    ),
    st.sampled_from(["multichoice", "truefalse", "category", "essay", "", "x"]),
    st.sampled_from(["html", "plain_text", "moodle_auto_format", "markdown", "x"]),
    words,
    st.lists(st.tuples(numbers, words), max_size=5),
    st.one_of(st.none(), st.sampled_from(["true", "false", "0", "1", "x"])),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(xml_question, max_size=4),
    st.sampled_from(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            "",
            "<?xml version='1.0'?>",
            '<?xml version="1.0" encoding="x-unknown"?>',
        ]
    ),
)
def test_moodle_xml_shaped_junk_gives_items_or_problems(questions, declaration):
    data = f"{declaration}<quiz>{''.join(questions)}</quiz>".encode()
    well_formed(interchange.parse(data, "moodle_xml"))


aiken_block = st.builds(
    lambda stem, choices, answer: "\n".join([stem, *choices, f"ANSWER: {answer}"]),
    words,
    st.lists(
        st.builds(lambda k, t: f"{k}{t}", st.sampled_from(["A. ", "B) ", "c. ", "1. "]), words)
    ),
    st.sampled_from(["A", "B", "C", "", "AB", "²"]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(aiken_block, min_size=1, max_size=4))
def test_aiken_shaped_junk_gives_items_or_problems(blocks):
    well_formed(interchange.parse("\n\n".join(blocks).encode("utf-8"), "aiken"))


answer_keys = st.one_of(
    st.builds(lambda t: "q-" + t, st.one_of(junk_text, st.integers(-(10**25), 10**25).map(str))),
    junk_text,
)
answer_values = st.one_of(junk_text, st.integers(-(10**25), 10**25).map(str))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(answer_keys, answer_values), max_size=6))
def test_any_answers_give_ids_or_a_refusal(pairs):
    try:
        answers = parse_answers(MultiDict(pairs))
    except InvalidInput as error:
        assert error.status_code == 400
        return
    for question_id, choice_ids in answers.items():
        assert 0 <= question_id <= MAX_ID
        assert all(0 <= choice_id <= MAX_ID for choice_id in choice_ids)
