"""Questions in banks: write, edit (a new version once an attempt has seen it), retire."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from lms.auth.models import User
from lms.courses import content
from lms.courses.bank import EDIT_BANKS
from lms.courses.catalogue import require_author
from lms.courses.codesets import keys
from lms.courses.models import (
    AttemptQuestion,
    Choice,
    Question,
    QuestionBank,
    QuestionKind,
    QuizItem,
)
from lms.courses.rules import code_entry
from lms.courses.rules.questions import (
    YEAR_PROBLEM,
    DraftQuestion,
    choices_from_text,
    question_problems,
)
from lms.errors import InvalidInput, NotFound, Problem
from lms.extensions import db
from lms.forms import whole_number
from lms.ledger.audit import record_event


def list_banks() -> list[tuple[QuestionBank, int]]:
    """Every bank with its number of live questions, in one query."""
    rows = db.session.execute(
        select(QuestionBank, func.count(Question.id))
        .outerjoin(Question, (Question.bank_id == QuestionBank.id) & Question.retired_at.is_(None))
        .group_by(QuestionBank.id)
        .order_by(QuestionBank.name)
    )
    return [(bank, count) for bank, count in rows]


def get_bank(bank_id: int) -> QuestionBank:
    """A bank, or ``NotFound``."""
    bank = db.session.get(QuestionBank, bank_id)
    if bank is None:
        raise NotFound("There is no such question bank.")
    return bank


def bank_questions(bank_id: int, include_retired: bool = False) -> list[Question]:
    """A bank's questions (newest versions), with their choices, in two queries."""
    query = (
        select(Question)
        .where(Question.bank_id == bank_id)
        .options(selectinload(Question.choices))
        .order_by(Question.family_id, Question.version)
    )
    if not include_retired:
        query = query.where(Question.retired_at.is_(None))
    return list(db.session.scalars(query))


def get_question(question_id: int) -> Question:
    """A question with its choices, or ``NotFound``."""
    question = db.session.scalar(
        select(Question).where(Question.id == question_id).options(selectinload(Question.choices))
    )
    if question is None:
        raise NotFound("There is no such question.")
    return question


def has_attempts(question_id: int) -> bool:
    """Whether any attempt drew this question."""
    return bool(
        db.session.scalar(
            select(func.count())
            .select_from(AttemptQuestion)
            .where(AttemptQuestion.question_id == question_id)
        )
    )


def draft_of(question: Question) -> DraftQuestion:
    """The authoring form of a stored question."""
    return DraftQuestion(
        stem=question.stem,
        kind=question.kind.value,
        choices=tuple((c.text, c.is_correct) for c in question.choices),
        rationale=question.rationale,
        content_area=question.content_area,
        difficulty=question.difficulty,
        code_set_year=question.code_set_year,
        tags=tuple(question.tags),
    )


def draft_from_form(data: Mapping[str, Any]) -> DraftQuestion:
    """A draft from the question form's data (``tags`` a list); every problem of it, each on
    its field, refuses it (400)."""
    kind = data.get("kind") or "single"
    choices = choices_from_text(data.get("choices") or "")
    if kind == "true_false" and not choices:
        choices = (("True", True), ("False", False))  # the form's hint: write the two lines
    year = (data.get("code_set_year") or "").strip()
    draft = DraftQuestion(
        stem=data.get("stem") or "",
        kind=kind,
        choices=choices,
        rationale=data.get("rationale") or "",
        content_area=data.get("content_area") or "",
        difficulty=data.get("difficulty") or "",
        code_set_year=whole_number(year, maximum=9999),
        tags=tuple(data.get("tags") or ()),
    )
    if year and whole_number(year, maximum=9999) is None:
        problems = [Problem(YEAR_PROBLEM, "code_set_year"), *question_problems(draft)]
        raise InvalidInput(problems=problems)
    return draft


def _check(draft: DraftQuestion) -> None:
    problems = question_problems(draft)
    if problems:
        raise InvalidInput(problems=problems)


def question_row(
    bank_id: int, draft: DraftQuestion, family_id: int | None = None, version: int = 1
) -> dict[str, Any]:
    """The column values of a checked draft's question row (also for bulk inserts)."""
    return {
        "bank_id": bank_id,
        "stem": draft.stem.strip(),
        "rationale": draft.rationale.strip(),
        "tags": list(draft.tags),
        "kind": QuestionKind(draft.kind),
        "content_area": draft.content_area.strip(),
        "difficulty": draft.difficulty,
        "code_set_year": draft.code_set_year,
        "family_id": family_id,
        "version": version,
    }


def choice_row(question_id: int, position: int, text: str, correct: bool) -> dict[str, Any]:
    """The column values of a choice row (also for bulk inserts)."""
    return {
        "question_id": question_id,
        "position": position,
        "text": text.strip(),
        "is_correct": correct,
    }


def store_question(
    bank_id: int, draft: DraftQuestion, family_id: int | None = None, version: int = 1
) -> Question:
    """Write a checked draft into a bank (the first version of a family unless one is given)."""
    question = Question(**question_row(bank_id, draft, family_id, version))
    db.session.add(question)
    db.session.flush()
    if family_id is None:
        question.family_id = question.id
    _add_choices(question, draft)
    return question


def _add_choices(question: Question, draft: DraftQuestion) -> None:
    db.session.add_all(
        Choice(**choice_row(question.id, position, text, correct))
        for position, (text, correct) in enumerate(draft.choices)
    )
    db.session.flush()


def create_question(actor: User, bank_id: int, draft: DraftQuestion, now: datetime) -> Question:
    """Add a question to a bank."""
    require_author(actor, EDIT_BANKS)
    get_bank(bank_id)
    _check(draft)
    question = store_question(bank_id, draft)
    record_event(
        "question.created",
        actor=actor,
        now=now,
        target_type="question",
        target_id=question.id,
        details={"bank_id": bank_id},
    )
    return question


def update_question(actor: User, question_id: int, draft: DraftQuestion, now: datetime) -> Question:
    """Edit a question. If an attempt has seen it, the edit is a new version: the old one is
    retired and kept for the attempts, and quizzes that list it move to the new one."""
    require_author(actor, EDIT_BANKS)
    question = get_question(question_id)
    if question.retired_at is not None:
        raise InvalidInput("This question is retired (or was replaced by a newer version).")
    _check(draft)
    if not has_attempts(question.id):
        question.stem = draft.stem.strip()
        question.rationale = draft.rationale.strip()
        question.tags = list(draft.tags)
        question.kind = QuestionKind(draft.kind)
        question.content_area = draft.content_area.strip()
        question.difficulty = draft.difficulty
        question.code_set_year = draft.code_set_year
        question.case_text = question.code_boxes = question.code_release = None
        db.session.execute(delete(Choice).where(Choice.question_id == question.id))
        db.session.flush()
        db.session.expire(question, ["choices"])
        _add_choices(question, draft)
        record_event(
            "question.edited", actor=actor, now=now, target_type="question", target_id=question.id
        )
        return question
    newer = store_question(question.bank_id, draft, question.family_id, question.version + 1)
    return _replaced(question, newer, actor, now)


def _replaced(question: Question, newer: Question, actor: User, now: datetime) -> Question:
    """Retire ``question`` in favour of its next version ``newer``: quizzes that list it move
    to the new one, attempts keep the old (audited)."""
    question.retired_at = now
    for item in db.session.scalars(select(QuizItem).where(QuizItem.question_id == question.id)):
        item.question_id = newer.id
    db.session.flush()
    record_event(
        "question.versioned",
        actor=actor,
        now=now,
        target_type="question",
        target_id=newer.id,
        details={"replaces": question.id, "version": newer.version},
    )
    return newer


def retire_question(actor: User, question_id: int, now: datetime) -> Question:
    """Take a question out of use: blueprints stop drawing it and fixed quizzes drop it;
    attempts that saw it keep it."""
    require_author(actor, EDIT_BANKS)
    question = get_question(question_id)
    if question.retired_at is not None:
        raise InvalidInput("This question is already retired.")
    question.retired_at = now
    db.session.execute(delete(QuizItem).where(QuizItem.question_id == question.id))
    db.session.flush()
    record_event(
        "question.retired", actor=actor, now=now, target_type="question", target_id=question.id
    )
    return question


# --- code-entry questions written in the bank's form ---------------------------------------


def code_entry_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """The question form's data as the content data of a code-entry question: its case, and
    its key read from the form's text (``rules.code_entry.key_from_text``); a line of the key
    that cannot be read, or a year that is not one, refuses it (400) with the rest."""
    boxes, problems = code_entry.key_from_text(data.get("boxes") or "")
    year = (data.get("code_set_year") or "").strip()
    if year and whole_number(year, maximum=9999) is None:
        problems.append(Problem(YEAR_PROBLEM, "code_set_year"))
    if problems:
        raise InvalidInput(problems=problems)
    return {
        "kind": QuestionKind.CODE_ENTRY.value,
        "stem": (data.get("stem") or "").strip(),
        "case": data.get("case") or "",
        "boxes": boxes,
        "rationale": (data.get("rationale") or "").strip(),
        "content_area": (data.get("content_area") or "").strip(),
        "difficulty": data.get("difficulty") or "",
        "code_set_year": whole_number(year, maximum=9999) if year else None,
        "tags": list(data.get("tags") or ()),
    }


def _checked_code_entry(data: Mapping[str, Any]) -> list:
    """The key's boxes checked against the code sets (every problem refuses it)."""
    boxes, problems = keys.checked_boxes(data["boxes"])
    problems = keys.case_problems(data["case"]) + problems
    if not data["stem"]:
        problems.insert(0, Problem("The question has no text.", "stem"))
    if problems:
        raise InvalidInput(problems=problems)
    return boxes


def create_code_entry(
    actor: User, bank_id: int, data: Mapping[str, Any], now: datetime
) -> Question:
    """Add a code-entry question to a bank, its key checked against the code sets."""
    require_author(actor, EDIT_BANKS)
    bank = get_bank(bank_id)
    _checked_code_entry(data)
    question = content.add_code_entry_question(bank, data)
    record_event(
        "question.created",
        actor=actor,
        now=now,
        target_type="question",
        target_id=question.id,
        details={"bank_id": bank_id, "kind": "code_entry"},
    )
    return question


def update_code_entry(
    actor: User, question_id: int, data: Mapping[str, Any], now: datetime
) -> Question:
    """Edit a question into (or as) a code-entry question: in place while no attempt has
    seen it, else as a new version that quizzes move to (attempts keep the one they saw)."""
    require_author(actor, EDIT_BANKS)
    question = get_question(question_id)
    if question.retired_at is not None:
        raise InvalidInput("This question is retired (or was replaced by a newer version).")
    boxes = _checked_code_entry(data)
    if has_attempts(question.id):
        bank = get_bank(question.bank_id)
        newer = content.add_code_entry_question(bank, data)
        newer.family_id, newer.version = question.family_id, question.version + 1
        return _replaced(question, newer, actor, now)
    db.session.execute(delete(Choice).where(Choice.question_id == question.id))
    question.stem = data["stem"]
    question.rationale = data["rationale"]
    question.tags = list(data["tags"])
    question.kind = QuestionKind.CODE_ENTRY
    question.content_area = data["content_area"]
    question.difficulty = data["difficulty"]
    question.code_set_year = data["code_set_year"]
    question.case_text = data["case"]
    question.code_boxes = [code_entry.stored_box(box) for box in boxes]
    question.code_release = keys.release_of(boxes)
    db.session.flush()
    db.session.expire(question, ["choices"])
    record_event(
        "question.edited", actor=actor, now=now, target_type="question", target_id=question.id
    )
    return question
