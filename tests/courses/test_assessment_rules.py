# ruff: noqa: S311 - seeded random sources make the draws reproducible
"""Drawing, shuffling, timing, pacing, areas, item statistics and authoring rules, without
the app."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from lms.courses.rules import drawing, grading, items, questions, quizzes, timing
from lms.courses.rules.drawing import BlueprintRow, PoolQuestion
from lms.courses.rules.items import Response
from lms.courses.rules.questions import DraftQuestion
from lms.errors import Problem

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def pool():
    return [PoolQuestion(i, frozenset({"ICD-10-CM"})) for i in range(1, 11)] + [
        PoolQuestion(i, frozenset({"CPT", "hard"})) for i in range(11, 16)
    ]


def test_blueprint_draws_the_count_per_tag_without_repeats():
    drawn = drawing.draw_questions(
        [BlueprintRow("ICD-10-CM", 4), BlueprintRow("cpt", 3)], pool(), random.Random(1)
    )
    assert len(drawn) == len(set(drawn)) == 7
    assert sum(1 for q in drawn if q <= 10) == 4
    assert sum(1 for q in drawn if q > 10) == 3


def test_blueprint_draw_is_random_but_reproducible_with_a_seed():
    rows = [BlueprintRow("ICD-10-CM", 5)]
    assert drawing.draw_questions(rows, pool(), random.Random(7)) == drawing.draw_questions(
        rows, pool(), random.Random(7)
    )
    draws = {tuple(drawing.draw_questions(rows, pool(), random.Random(s))) for s in range(20)}
    assert len(draws) > 1


def test_overlapping_tags_never_draw_a_question_twice():
    questions = [PoolQuestion(1, frozenset({"CPT", "hard"})), PoolQuestion(2, frozenset({"CPT"}))]
    drawn = drawing.draw_questions(
        [BlueprintRow("hard", 1), BlueprintRow("CPT", 1)], questions, random.Random(0)
    )
    assert sorted(drawn) == [1, 2]


def test_questions_met_before_are_drawn_only_when_the_fresh_ones_run_out():
    rows = [BlueprintRow("ICD-10-CM", 4)]
    met = {1, 2, 3, 4, 5, 6}  # two earlier attempts' worth: 4 fresh questions are left
    for seed in range(20):
        assert sorted(drawing.draw_questions(rows, pool(), random.Random(seed), met)) == [
            7,
            8,
            9,
            10,
        ]
    met = {1, 2, 3, 4, 5, 6, 7, 8}  # 2 fresh: both are drawn, the other 2 from those met
    for seed in range(20):
        drawn = drawing.draw_questions(rows, pool(), random.Random(seed), met)
        assert len(set(drawn)) == 4 and {9, 10} <= set(drawn)


def test_a_blueprint_the_bank_cannot_fill_names_every_short_row():
    with pytest.raises(drawing.DrawError) as error:
        drawing.draw_questions(
            [BlueprintRow("CPT", 6), BlueprintRow("HCPCS", 1)], pool(), random.Random(0)
        )
    assert error.value.problems == [
        "6 questions tagged 'CPT' are needed, the bank has 5.",
        "1 questions tagged 'HCPCS' are needed, the bank has 0.",
    ]


def test_parse_blueprint_refuses_bad_rows():
    assert drawing.parse_blueprint([{"tag": "CPT", "count": 2}]) == [BlueprintRow("CPT", 2)]
    with pytest.raises(drawing.DrawError) as error:
        drawing.parse_blueprint([{"tag": "", "count": 2}, {"tag": "CPT", "count": 0}])
    assert len(error.value.problems) == 2


def test_choices_are_shuffled_except_true_false():
    orders = {
        tuple(drawing.shuffle_choices([1, 2, 3, 4], random.Random(s), False)) for s in range(10)
    }
    assert len(orders) > 1 and all(sorted(o) == [1, 2, 3, 4] for o in orders)
    assert drawing.shuffle_choices([1, 2], random.Random(3), True) == [1, 2]


def test_deadline_and_seconds_left_with_an_injected_clock():
    deadline = timing.deadline_for(T0, 240)
    assert deadline == T0 + timedelta(hours=4)
    assert timing.seconds_left(deadline, T0 + timedelta(minutes=10)) == 230 * 60
    assert timing.seconds_left(deadline, T0 + timedelta(hours=5)) == 0
    assert not timing.is_overdue(deadline, deadline - timedelta(seconds=1))
    assert timing.is_overdue(deadline, deadline)
    assert timing.deadline_for(T0, None) is None
    assert timing.seconds_left(None, T0) is None
    assert not timing.is_overdue(None, T0 + timedelta(days=999))


def test_pacing_compares_time_per_question_with_the_budget():
    slow = timing.pacing(T0, T0 + timedelta(minutes=200), 240, 50, answered=50)
    assert (slow.seconds_used, slow.seconds_allowed) == (12000, 14400)
    assert slow.seconds_per_question == 240.0
    assert slow.budget_per_question == 288.0
    assert slow.on_pace is True
    fast_exam = timing.pacing(T0, T0 + timedelta(minutes=60), 30, 10, answered=10)
    assert fast_exam.on_pace is False
    untimed = timing.pacing(T0, T0 + timedelta(seconds=90), None, 3, answered=3)
    assert (untimed.budget_per_question, untimed.on_pace, untimed.seconds_per_question) == (
        None,
        None,
        30.0,
    )


def test_time_run_out_with_most_questions_blank_is_never_on_pace():
    # 100 questions in 4 hours; 10 answered in the first 20 minutes, then nothing until the
    # deadline: 24 minutes per answered question, and 90 blank.
    ran_out = timing.pacing(T0, T0 + timedelta(minutes=240), 240, 100, answered=10)
    assert ran_out.on_pace is False and ran_out.unanswered == 90
    assert ran_out.seconds_per_question == 1440.0
    # Quick, but submitted early with blanks: not on pace either.
    blank = timing.pacing(T0, T0 + timedelta(minutes=20), 240, 100, answered=10)
    assert blank.on_pace is False
    nothing = timing.pacing(T0, T0 + timedelta(minutes=240), 240, 100, answered=0)
    assert (nothing.on_pace, nothing.answered) == (False, 0)


def test_scores_by_area_weakest_first():
    areas = grading.scores_by_area(
        [("CPT", True), ("CPT", False), ("ICD-10-CM", True), ("", False), ("ICD-10-CM", True)]
    )
    assert [(a.area, a.correct, a.total, a.score) for a in areas] == [
        ("General", 0, 1, 0.0),
        ("CPT", 1, 2, 50.0),
        ("ICD-10-CM", 2, 2, 100.0),
    ]


@pytest.mark.parametrize(
    ("policy", "passed", "shown"),
    [
        ("after_attempt", False, True),
        ("after_passing", False, False),
        ("after_passing", True, True),
        ("never", True, False),
    ],
)
def test_review_policy(policy, passed, shown):
    assert grading.may_review(policy, passed) is shown


def test_presets_mirror_the_real_exams():
    assert (quizzes.PRESETS["CPC"].questions, quizzes.PRESETS["CPC"].minutes) == (100, 240)
    assert quizzes.PRESETS["CPC"].passing_score == 70
    assert (quizzes.PRESETS["CCA"].questions, quizzes.PRESETS["CCA"].minutes) == (105, 120)
    assert "conflict" in quizzes.PRESETS["CPB"].note.lower()


def test_heartbeat_credit_is_capped_and_starts_at_zero():
    assert timing.heartbeat_credit(None, T0) == 0
    assert timing.heartbeat_credit(T0, T0 + timedelta(seconds=60)) == 60
    assert timing.heartbeat_credit(T0, T0 + timedelta(hours=3)) == timing.HEARTBEAT_CAP_SECONDS
    assert timing.heartbeat_credit(T0, T0 - timedelta(seconds=5)) == 0


def test_point_biserial_matches_a_hand_computed_value():
    # scores 90, 80 right; 60, 50 wrong: mean 70, sd sqrt(250), p = 0.5
    value = items.point_biserial([(True, 90), (True, 80), (False, 60), (False, 50)])
    assert value == pytest.approx((85 - 55) / 250**0.5 * 0.5, abs=1e-4)
    assert items.point_biserial([(True, 90), (True, 80)]) is None  # everyone right
    assert items.point_biserial([(True, 70), (False, 70)]) is None  # no spread
    assert items.point_biserial([(True, 70)]) is None


def test_item_statistics_counts_answers_share_and_distractors():
    responses = [
        Response(1, 7, frozenset({70}), True, 100.0),
        Response(2, 7, frozenset({71}), False, 40.0),
        Response(3, 7, frozenset({71}), False, 30.0),
        Response(4, 7, frozenset(), False, 20.0),  # unanswered: not counted
        Response(1, 8, frozenset({80}), True, 100.0),
    ]
    first, second = items.item_statistics(responses)
    assert (first.question_id, first.answered, first.share_correct) == (7, 3, 0.3333)
    assert first.choice_counts == {70: 1, 71: 2}
    assert first.discrimination is not None and first.discrimination > 0.9
    assert (second.answered, second.share_correct, second.discrimination) == (1, 1.0, None)


def draft(**changes):
    base = {
        "stem": "Which code set reports diagnoses?",
        "kind": "single",
        "choices": (("ICD-10-CM", True), ("CPT", False)),
    }
    return DraftQuestion(**{**base, **changes})


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"stem": " "}, "stem", "The question has no text."),
        (
            {"choices": (("A", True), ("B", True))},
            "choices",
            "A single-answer question needs exactly one correct choice (2 given).",
        ),
        (
            {"kind": "multiple", "choices": (("A", False), ("B", False))},
            "choices",
            "A multiple-answer question needs at least one correct choice.",
        ),
        (
            {"kind": "true_false", "choices": (("Yes", True), ("No", False))},
            "choices",
            "A true/false question has the choices True and False, one correct.",
        ),
        ({"choices": (("A", True),)}, "choices", "A question needs at least two choices."),
        ({"choices": (("A", True), ("A", False))}, "choices", "Two choices have the same text."),
        ({"kind": "essay"}, "kind", "Unknown question type 'essay'."),
        ({"difficulty": "brutal"}, "difficulty", "The difficulty is easy, medium or hard."),
        ({"code_set_year": 26}, "code_set_year", "The code-set year is a year such as 2026."),
    ],
)
def test_question_problems_name_their_field(changes, field, problem):
    problems = questions.question_problems(draft(**changes))
    assert Problem(problem, field) in problems, problems


def test_every_problem_of_a_question_is_reported():
    problems = questions.question_problems(
        draft(stem="", choices=(("A", True), ("A", True)), difficulty="brutal")
    )
    assert [p.field for p in problems] == ["stem", "choices", "choices", "difficulty"]


def test_a_good_question_has_no_problems():
    assert questions.question_problems(draft()) == []
    assert (
        questions.question_problems(
            draft(kind="true_false", choices=(("True", False), ("False", True)))
        )
        == []
    )


def settings(**changes):
    base = {
        "passing_score": 70,
        "time_limit_minutes": None,
        "max_attempts": None,
        "review_policy": "after_attempt",
        "preset": None,
        "bank_id": 1,
        "blueprint": "",
    }
    return quizzes.QuizSettings(**{**base, **changes})


def test_quiz_settings_report_every_problem_on_its_field():
    settled = quizzes.settle_quiz(
        settings(preset="XYZ", bank_id=None, blueprint="CPT: 2\nno count"), pool=None
    )
    assert [(p.field, p.message) for p in settled.problems] == [
        ("blueprint", "Line 2: write 'tag: number', e.g. 'ICD-10-CM: 10'."),
        ("preset", "There is no such exam preset."),
        ("bank_id", "Choose the bank the blueprint draws from."),
    ]


def test_a_preset_fixes_time_and_score_and_the_bank_must_fill_the_blueprint():
    settled = quizzes.settle_quiz(settings(preset="CCA", blueprint="CPT: 100\nHCPCS: 5"), pool())
    assert (settled.time_limit_minutes, settled.passing_score) == (120, 70)
    assert [p.message for p in settled.problems] == [
        "100 questions tagged 'CPT' are needed, the bank has 5.",
        "5 questions tagged 'HCPCS' are needed, the bank has 0.",
    ]
    fine = quizzes.settle_quiz(settings(time_limit_minutes=45, blueprint="cpt: 5"), pool())
    assert fine.problems == () and fine.blueprint == (BlueprintRow("cpt", 5),)
    assert (fine.time_limit_minutes, fine.passing_score) == (45, 70)


def test_exam_module_problems_name_their_fields():
    assert quizzes.exam_module_problems("X", "", code_taken=False) == [
        Problem("The code is 2 to 30 letters, digits or dashes, e.g. CPC-PRACTICE-2.", "code"),
        Problem("Give the exam a title.", "title"),
    ]
    assert quizzes.exam_module_problems("CPC-2", "Exam", code_taken=True) == [
        Problem("The code CPC-2 is already used by another module.", "code")
    ]
    assert quizzes.exam_module_problems("CPC-2", "Exam", code_taken=False) == []
