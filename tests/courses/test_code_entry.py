"""Code-entry questions (issue 18 item 1): the key checked against the code sets, the codes a
student types saved, checked as they type, graded with partial credit, and fed back code by
code on the result page."""

import pytest
from sqlalchemy import func, select

from lms.auth.models import Role
from lms.courses import content
from lms.courses.models import (
    Attempt,
    AttemptAnswer,
    AttemptStatus,
    Question,
    QuestionBank,
    QuestionKind,
)
from lms.courses.rules import code_entry
from lms.errors import InvalidInput
from lms.extensions import db
from lms.ledger.models import LedgerEntry
from tests import factories
from tests.conftest import login, post_form

T0 = factories.NOW

CASE = """Office visit. 58-year-old established patient with type 2 diabetes and a
non-pressure ulcer of the right heel, limited to breakdown of the skin. Debridement of the
ulcer to subcutaneous tissue, 4 sq cm."""


def code_question(**overrides):
    data = {
        "kind": "code_entry",
        "stem": "Assign the ICD-10-CM and CPT codes.",
        "case": CASE,
        "rationale": "The diabetic ulcer code comes first, then the site and depth.",
        "content_area": "ICD-10-CM",
        "boxes": [
            {
                "label": "ICD-10-CM diagnosis codes",
                "code_set": "icd10cm",
                "order": "first",
                "key": [["E11.621"], ["L97.411"]],
                "feedback": ["Diabetes with foot ulcer first.", "Then the ulcer's site."],
            },
            {"label": "CPT procedure codes", "code_set": "cpt", "order": "any", "key": [["11042"]]},
        ],
    }
    data.update(overrides)
    return data


def coding_quiz(code="CE"):
    content.create_course(
        {
            "code": code,
            "title": "Coding cases",
            "topic_area": "coding",
            "modules": [
                {
                    "code": f"{code}-1",
                    "title": "Cases",
                    "passing_score": 70,
                    "questions": [
                        code_question(),
                        {
                            "stem": "Placeholder character?",
                            "choices": ["X", "Z"],
                            "correct": 0,
                            "rationale": "X.",
                        },
                    ],
                }
            ],
        }
    )
    db.session.commit()
    return factories.module(f"{code}-1")


def box(order="any", key=(("E11.621",), ("L97.411",)), code_set="icd10cm"):
    made, problems = code_entry.box_problems(
        {"label": "Box", "code_set": code_set, "order": order, "key": [list(k) for k in key]}, 0
    )
    assert problems == []
    return made


def verdicts(result):
    return [(line.code, line.verdict.value) for line in result.lines]


# -- the rules ------------------------------------------------------------------------------


def test_codes_are_read_as_the_code_set_writes_them():
    assert code_entry.read_code("icd10cm", "e119") == code_entry.Code("E11.9")
    assert code_entry.read_code("icd10cm", "E11.9") == code_entry.Code("E11.9")
    assert code_entry.read_code("cpt", "99214-25") == code_entry.Code("99214", frozenset({"25"}))
    assert code_entry.read_code("hcpcs", "j1100") == code_entry.Code("J1100")
    assert code_entry.read_code("icd10pcs", "0dtj4zz") == code_entry.Code("0DTJ4ZZ")
    for code_set, text in [
        ("icd10cm", "E11."),
        ("icd10cm", "E11.9-25"),
        ("cpt", "9921"),
        ("cpt", "99214-2"),
        ("icd10pcs", "0DTJ4ZO"),
    ]:
        assert isinstance(code_entry.read_code(code_set, text), str), text


def test_every_code_right_earns_full_credit_in_any_spelling():
    result = code_entry.score_box(box(order="first"), "e11621, L97411")
    assert result.points == 2
    assert verdicts(result) == [("E11.621", "right"), ("L97.411", "right")]


def test_missing_extra_and_out_of_order_codes_each_cost_what_the_rule_says():
    first = box(order="first")
    assert code_entry.score_box(first, "E11.621").points == 1  # one missing
    assert verdicts(code_entry.score_box(first, "E11.621")) == [
        ("E11.621", "right"),
        ("L97.411", "missing"),
    ]
    swapped = code_entry.score_box(first, "L97.411 E11.621")
    assert swapped.points == 1.5  # the first-listed code is not first: half its point
    assert ("E11.621", "out_of_order") in verdicts(swapped)
    assert code_entry.score_box(box(order="any"), "L97.411 E11.621").points == 2
    extra = code_entry.score_box(first, "E11.621 L97.411 I10")
    assert extra.points == 1.5 and ("I10", "wrong") in verdicts(extra)
    assert code_entry.score_box(first, "I10 Z00.00 R51.9 R05.9 R50.9").points == 0  # never below 0


def test_modifiers_must_match_and_interchangeable_codes_are_either_right():
    cpt = box(code_set="cpt", order="exact", key=(("99214-25",), ("11042", "11043")))
    assert code_entry.score_box(cpt, "99214-25 11043").points == 2
    missing_modifier = code_entry.score_box(cpt, "99214 11042")
    assert missing_modifier.points == 1.5
    assert verdicts(missing_modifier)[0] == ("99214", "modifier")
    assert code_entry.score_box(cpt, "11042 99214-25").points == 1  # exact order broken


def test_a_question_s_credit_is_its_points_over_its_key_entries():
    boxes = [box(order="first"), box(code_set="cpt", key=(("11042",),))]
    score = code_entry.score_question(boxes, ("E11.621 L97.411", "11042"))
    assert score.credit == 1 and score.is_correct
    score = code_entry.score_question(boxes, ("E11.621", ""))
    assert score.credit == pytest.approx(1 / 3, abs=1e-4) and not score.is_correct


def test_fifty_codes_in_a_box_are_refused_and_unreadable_ones_only_at_submission():
    one = [box()]
    fifty = " ".join(["E11.9"] * 50)
    assert code_entry.typed_problems(one, (fifty,), strict=False) == [
        "Box: at most 20 codes in one box; there are 50."
    ]
    assert code_entry.typed_problems(one, ("E11.",), strict=False) == []
    assert code_entry.typed_problems(one, ("E11.",), strict=True)


# -- the key ----------------------------------------------------------------------------------


def test_a_code_entry_question_is_stored_with_its_boxes_and_release(app):
    module = coding_quiz()
    question = db.session.scalar(select(Question).where(Question.kind == QuestionKind.CODE_ENTRY))
    assert question.case_text == CASE
    assert question.code_release == "icd10cm 2026-04-01"
    assert [b["key"] for b in question.code_boxes] == [[["E11.621"], ["L97.411"]], [["11042"]]]
    assert module.code == "CE-1"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"boxes": [{"label": "Dx", "code_set": "icd10cm", "key": [["E11.99X"]]}]}, "no such"),
        ({"boxes": [{"label": "Dx", "code_set": "icd10cm", "key": [["E11"]]}]}, "not billable"),
        ({"boxes": [{"label": "Dx", "code_set": "icd10cm", "key": [["S52.521"]]}]}, "7th"),
        ({"boxes": [{"label": "Px", "code_set": "cpt", "key": [["1104"]]}]}, "CPT"),
        ({"case": "<p>Patient seen</p>"}, "HTML"),
        ({"boxes": []}, "at least one answer box"),
    ],
)
def test_a_bad_key_or_case_is_refused_with_nothing_written(app, overrides, message):
    bank = QuestionBank(name="Keys")
    db.session.add(bank)
    db.session.flush()
    before = db.session.scalar(select(func.count()).select_from(Question))
    with pytest.raises(InvalidInput) as refused:
        content.add_question(bank, code_question(**overrides))
    assert message in " ".join(p.message for p in refused.value.problems)
    assert db.session.scalar(select(func.count()).select_from(Question)) == before


# -- the player -------------------------------------------------------------------------------


def start(client, module):
    response = post_form(client, f"/modules/{module.id}/attempts")
    assert response.status_code == 302
    return db.session.get(Attempt, int(response.headers["Location"].rsplit("/", 1)[1]))


def ids():
    question = db.session.scalar(select(Question).where(Question.kind == QuestionKind.CODE_ENTRY))
    other = db.session.scalar(select(Question).where(Question.kind != QuestionKind.CODE_ENTRY))
    return question, other


def test_a_student_types_codes_saves_them_and_reads_per_code_feedback(client, monkeypatch):
    module = coding_quiz()
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    monkeypatch.setattr("lms.courses.views.utcnow", lambda: T0)
    attempt = start(client, module)
    question, other = ids()

    page = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert "non-pressure ulcer of the right heel" in page
    assert f'name="codes-{question.id}-0"' in page and f'name="codes-{question.id}-1"' in page
    assert "E11.621" not in page  # the key never reaches the player
    assert 'src="/static/js/code_entry.js" defer' in page

    saved = post_form(
        client,
        f"/attempts/{attempt.id}/answers",
        {f"codes-{question.id}-0": "l97411 E11.621", f"codes-{question.id}-1": "11042"},
    )
    assert saved.status_code in (200, 302)
    row = db.session.scalar(select(AttemptAnswer).where(AttemptAnswer.question_id == question.id))
    assert row.typed_codes == ["l97411 E11.621", "11042"]
    resumed = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert "l97411 E11.621</textarea>" in resumed

    done = post_form(
        client,
        f"/attempts/{attempt.id}/submit",
        {
            f"codes-{question.id}-0": "l97411 E11.621",
            f"codes-{question.id}-1": "11042",
            "unanswered": "confirmed",
        },
    )
    assert done.status_code == 302
    db.session.expire_all()
    graded = db.session.get(Attempt, attempt.id)
    assert graded.status is AttemptStatus.SUBMITTED
    # 2.5 of 3 key entries (the diabetes code out of first place: half a point) and the
    # choice question unanswered: (2.5/3 + 0) / 2 questions
    assert graded.score == pytest.approx(41.67, abs=0.01)
    row = db.session.scalar(select(AttemptAnswer).where(AttemptAnswer.question_id == question.id))
    assert row.credit == pytest.approx(0.8333, abs=1e-4) and row.is_correct is False
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 0  # not passed

    result = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert "L97.411</strong>: right" in result
    assert "E11.621</strong>: right code, out of order. Diabetes with foot ulcer first." in result
    assert "Credit for this question: 83%" in result


def test_fifty_codes_or_an_unreadable_code_at_submission_are_refused_nothing_written(
    client, monkeypatch
):
    module = coding_quiz()
    student = factories.user(Role.STUDENT)
    login(client, student.email)
    monkeypatch.setattr("lms.courses.views.utcnow", lambda: T0)
    attempt = start(client, module)
    question, _ = ids()
    fifty = " ".join(["E11.9"] * 50)
    refused = post_form(
        client, f"/attempts/{attempt.id}/answers", {f"codes-{question.id}-0": fifty}
    )
    assert refused.status_code == 400
    assert "at most 20 codes in one box; there are 50" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AttemptAnswer)) == 0

    refused = post_form(
        client,
        f"/attempts/{attempt.id}/submit",
        {
            f"codes-{question.id}-0": "E11.",
            f"codes-{question.id}-1": "11042",
            "unanswered": "confirmed",
        },
    )
    assert refused.status_code == 400
    assert "is not written like an ICD-10-CM code" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).status is AttemptStatus.IN_PROGRESS
    assert db.session.scalar(select(func.count()).select_from(AttemptAnswer)) == 0


def test_the_box_check_judges_each_code_as_the_student_types(client):
    login(client, factories.user(Role.STUDENT).email)
    body = client.get("/codes/check-box?set=icd10cm&codes=E11.9 e119 S52.521 E11").get_json()
    verdicts_ = [(c["code"], c["ok"]) for c in body["checks"]]
    assert verdicts_ == [("E11.9", True), ("E11.9", True), ("S52.521", False), ("E11", False)]
    messages = [c["message"] for c in body["checks"]]
    assert "valid and billable" in messages[0]
    assert "needs a 7th character" in messages[2]
    assert "needs more characters" in messages[3]
    cpt = client.get("/codes/check-box?set=cpt&codes=99214-25 9921").get_json()
    assert [c["ok"] for c in cpt["checks"]] == [True, False]
    too_many = client.get("/codes/check-box?set=icd10cm&codes=" + "+".join(["E11.9"] * 50))
    assert too_many.status_code == 400


def test_the_box_check_names_pairs_an_excludes1_note_forbids(client):
    login(client, factories.user(Role.STUDENT).email)
    # E10 (type 1 diabetes) carries an Excludes1 note naming type 2 diabetes (E11.-)
    body = client.get("/codes/check-box?set=icd10cm&codes=E10.9 E11.9").get_json()
    assert body["excludes1"], body
    assert {"E10.9", "E11.9"} == set(body["excludes1"][0]["codes"])
