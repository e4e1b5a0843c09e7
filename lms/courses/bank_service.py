"""Use cases for question banks: authoring with versions, retirement, import and export,
quiz settings (blueprints, presets, review policy) and item analysis.

Banks and quizzes belong to the school, not to a cohort: every instructor and admin may
manage them (students never)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from lms.auth.models import User
from lms.courses import interchange, rules
from lms.courses.interchange import aiken, gift, moodle_xml
from lms.courses.models import (
    Attempt,
    AttemptAnswer,
    AttemptQuestion,
    AttemptStatus,
    Choice,
    Course,
    Module,
    Question,
    QuestionBank,
    QuestionKind,
    Quiz,
    QuizItem,
    ReviewPolicy,
)
from lms.errors import InvalidInput, NotFound, PermissionDenied
from lms.extensions import db
from lms.ledger.audit import record_event


def _require_staff(actor: User) -> None:
    if not (actor.is_instructor or actor.is_admin):
        raise PermissionDenied("Only instructors and admins manage question banks.")


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


def find_or_create_bank(actor: User, name: str, now: datetime) -> QuestionBank:
    """The bank with this name, created if needed."""
    _require_staff(actor)
    name = name.strip()
    if not name:
        raise InvalidInput("Give the bank a name.")
    bank = db.session.scalar(select(QuestionBank).where(QuestionBank.name == name))
    if bank is None:
        bank = QuestionBank(name=name[:200])
        db.session.add(bank)
        db.session.flush()
        record_event(
            "bank.created",
            actor=actor,
            now=now,
            target_type="question_bank",
            target_id=bank.id,
            details={"name": bank.name},
        )
    return bank


def draft_of(question: Question) -> rules.DraftQuestion:
    """The authoring form of a stored question."""
    return rules.DraftQuestion(
        stem=question.stem,
        kind=question.kind.value,
        choices=tuple((c.text, c.is_correct) for c in question.choices),
        rationale=question.rationale,
        content_area=question.content_area,
        difficulty=question.difficulty,
        code_set_year=question.code_set_year,
        tags=tuple(t.strip() for t in question.tags.split(",") if t.strip()),
    )


def _check(draft: rules.DraftQuestion) -> None:
    problems = rules.question_problems(draft)
    if problems:
        raise InvalidInput("The question cannot be saved: " + "; ".join(problems) + ".")


def _store(
    bank_id: int, draft: rules.DraftQuestion, family_id: int | None, version: int
) -> Question:
    question = Question(
        bank_id=bank_id,
        stem=draft.stem.strip(),
        rationale=draft.rationale.strip(),
        tags=", ".join(draft.tags),
        kind=QuestionKind(draft.kind),
        content_area=draft.content_area.strip(),
        difficulty=draft.difficulty,
        code_set_year=draft.code_set_year,
        family_id=family_id,
        version=version,
    )
    db.session.add(question)
    db.session.flush()
    if family_id is None:
        question.family_id = question.id
    db.session.add_all(
        Choice(question_id=question.id, position=i, text=text.strip(), is_correct=ok)
        for i, (text, ok) in enumerate(draft.choices)
    )
    db.session.flush()
    return question


def create_question(
    actor: User, bank_id: int, draft: rules.DraftQuestion, now: datetime
) -> Question:
    """Add a question to a bank."""
    _require_staff(actor)
    get_bank(bank_id)
    _check(draft)
    question = _store(bank_id, draft, None, 1)
    record_event(
        "question.created",
        actor=actor,
        now=now,
        target_type="question",
        target_id=question.id,
        details={"bank_id": bank_id},
    )
    return question


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


def update_question(
    actor: User, question_id: int, draft: rules.DraftQuestion, now: datetime
) -> Question:
    """Edit a question. If an attempt has seen it, the edit is a new version: the old one is
    retired and kept for the attempts, and quizzes that list it move to the new one."""
    _require_staff(actor)
    question = get_question(question_id)
    if question.retired_at is not None:
        raise InvalidInput("This question is retired (or was replaced by a newer version).")
    _check(draft)
    if not has_attempts(question.id):
        question.stem = draft.stem.strip()
        question.rationale = draft.rationale.strip()
        question.tags = ", ".join(draft.tags)
        question.kind = QuestionKind(draft.kind)
        question.content_area = draft.content_area.strip()
        question.difficulty = draft.difficulty
        question.code_set_year = draft.code_set_year
        db.session.execute(delete(Choice).where(Choice.question_id == question.id))
        db.session.flush()
        db.session.expire(question, ["choices"])
        db.session.add_all(
            Choice(question_id=question.id, position=i, text=text.strip(), is_correct=ok)
            for i, (text, ok) in enumerate(draft.choices)
        )
        db.session.flush()
        record_event(
            "question.edited", actor=actor, now=now, target_type="question", target_id=question.id
        )
        return question
    newer = _store(question.bank_id, draft, question.family_id, question.version + 1)
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
    _require_staff(actor)
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


# --- import and export -------------------------------------------------------------------


def preview_import(data: bytes, fmt: str) -> interchange.ParseResult:
    """What an import of this file would do; nothing is written."""
    return interchange.parse(data, fmt)


def import_questions(
    actor: User | None, bank_name: str, data: bytes, fmt: str, now: datetime
) -> tuple[QuestionBank, interchange.ParseResult]:
    """Import every question of the file into the named bank, or none: when any item is
    refused, nothing is written and the result lists every problem."""
    if actor is not None:
        _require_staff(actor)
    result = interchange.parse(data, fmt)
    if not result.ok:
        raise InvalidInput(
            "Nothing was imported: " + "; ".join(str(p) for p in result.problems) + "."
        )
    name = bank_name.strip()
    if not name:
        raise InvalidInput("Give the bank a name.")
    bank = db.session.scalar(select(QuestionBank).where(QuestionBank.name == name))
    if bank is None:
        bank = QuestionBank(name=name[:200])
        db.session.add(bank)
        db.session.flush()
    for item in result.items:
        _store(bank.id, item.draft, None, 1)
    record_event(
        "bank.imported",
        actor=actor,
        now=now,
        target_type="question_bank",
        target_id=bank.id,
        details={"format": fmt, "questions": len(result.items)},
    )
    return bank, result


def export_bank(actor: User, bank_id: int, fmt: str, now: datetime) -> tuple[bytes, str]:
    """A bank's live questions as Moodle XML or GIFT (bytes and a file name)."""
    _require_staff(actor)
    bank = get_bank(bank_id)
    drafts = [draft_of(q) for q in bank_questions(bank.id)]
    slug = "".join(c if c.isalnum() else "-" for c in bank.name.lower()).strip("-")[:60] or "bank"
    if fmt == "moodle_xml":
        body, filename = moodle_xml.export(drafts, bank.name), f"{slug}.xml"
    elif fmt == "gift":
        body, filename = gift.export(drafts).encode("utf-8"), f"{slug}.gift"
    elif fmt == "aiken":
        text, _skipped = aiken.export(drafts)
        body, filename = text.encode("utf-8"), f"{slug}.txt"
    else:
        raise NotFound("There is no such export format.")
    record_event(
        "bank.exported",
        actor=actor,
        now=now,
        target_type="question_bank",
        target_id=bank.id,
        details={"format": fmt, "questions": len(drafts)},
    )
    return body, filename


# --- quiz settings -----------------------------------------------------------------------


@dataclass(frozen=True)
class QuizSettings:
    """What an instructor sets on a quiz."""

    passing_score: int
    time_limit_minutes: int | None
    max_attempts: int | None
    review_policy: str
    preset: str | None
    bank_id: int | None
    blueprint: tuple[rules.BlueprintRow, ...]  # empty: the fixed list


def get_quiz(quiz_id: int) -> Quiz:
    """A quiz with its module and items, or ``NotFound``."""
    quiz = db.session.scalar(
        select(Quiz)
        .where(Quiz.id == quiz_id)
        .options(
            selectinload(Quiz.module), selectinload(Quiz.items).selectinload(QuizItem.question)
        )
    )
    if quiz is None:
        raise NotFound("There is no such quiz.")
    return quiz


def parse_blueprint_text(text: str) -> tuple[rules.BlueprintRow, ...]:
    """``tag: count`` per line into blueprint rows, refusing malformed lines."""
    rows, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        tag, sep, count = line.rpartition(":")
        if not sep or not tag.strip() or not count.strip().isdigit() or int(count) < 1:
            problems.append(f"line {number}: write 'tag: number', e.g. 'ICD-10-CM: 10'")
        else:
            rows.append(rules.BlueprintRow(tag.strip(), int(count)))
    if problems:
        raise InvalidInput("The blueprint cannot be used: " + "; ".join(problems) + ".")
    return tuple(rows)


def update_quiz(actor: User, quiz_id: int, settings: QuizSettings, now: datetime) -> Quiz:
    """Change a quiz's settings; a preset sets the time and the passing score and requires
    the blueprint to draw its number of questions; the bank must be able to fill it."""
    _require_staff(actor)
    quiz = get_quiz(quiz_id)
    time_limit, passing = settings.time_limit_minutes, settings.passing_score
    if settings.preset:
        preset = rules.PRESETS.get(settings.preset)
        if preset is None:
            raise InvalidInput("There is no such exam preset.")
        time_limit, passing = preset.minutes, preset.passing_score
        total = sum(row.count for row in settings.blueprint)
        if total != preset.questions:
            raise InvalidInput(
                f"The {preset.name} preset has {preset.questions} questions; the blueprint "
                f"draws {total}."
            )
    if settings.blueprint:
        if settings.bank_id is None:
            raise InvalidInput("Choose the bank the blueprint draws from.")
        get_bank(settings.bank_id)
        pool = [
            rules.PoolQuestion(q.id, frozenset(_labels(q)))
            for q in bank_questions(settings.bank_id)
        ]
        # A dry run: every row must be fillable now (the draw itself happens per attempt).
        try:
            rules.draw_questions(settings.blueprint, pool, _DryRandom())
        except rules.DrawError as error:
            raise InvalidInput(
                "The bank cannot fill this blueprint: " + "; ".join(error.problems) + "."
            ) from error
    quiz.passing_score = passing
    quiz.time_limit_minutes = time_limit
    quiz.max_attempts = settings.max_attempts
    quiz.review_policy = ReviewPolicy(settings.review_policy)
    quiz.preset = settings.preset or None
    quiz.bank_id = settings.bank_id if settings.blueprint else quiz.bank_id
    quiz.blueprint = (
        json.dumps([{"tag": r.tag, "count": r.count} for r in settings.blueprint])
        if settings.blueprint
        else ""
    )
    db.session.flush()
    record_event(
        "quiz.settings_changed",
        actor=actor,
        now=now,
        target_type="quiz",
        target_id=quiz.id,
        details={
            "preset": quiz.preset,
            "time_limit_minutes": time_limit,
            "passing_score": passing,
            "blueprint": quiz.blueprint,
        },
    )
    return quiz


class _DryRandom:
    """A stand-in random source for checking that a blueprint can be filled."""

    def sample(self, population, k):
        return list(population)[:k]

    def shuffle(self, items) -> None:
        return None


def _labels(question: Question) -> list[str]:
    labels = [t.strip() for t in question.tags.split(",") if t.strip()]
    if question.content_area:
        labels.append(question.content_area)
    return labels


def tag_counts(bank_id: int) -> list[tuple[str, int]]:
    """How many live questions carry each label in a bank (for building blueprints)."""
    counts: dict[str, int] = {}
    for question in db.session.scalars(
        select(Question).where(Question.bank_id == bank_id, Question.retired_at.is_(None))
    ):
        for label in dict.fromkeys(_labels(question)):
            counts[label] = counts.get(label, 0) + 1
    return sorted(counts.items())


def add_exam_module(actor: User, course_id: int, code: str, title: str, now: datetime) -> Quiz:
    """Add a module holding only a quiz (a practice exam) at the end of a course; its
    questions are then set in the quiz settings (a blueprint over a bank)."""
    _require_staff(actor)
    course = db.session.get(Course, course_id)
    if course is None:
        raise NotFound("There is no such course.")
    code, title = code.strip().upper(), title.strip()
    problems = []
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9-]{1,29}", code):
        problems.append("the code is 2 to 30 letters, digits or dashes, e.g. CPC-PRACTICE-2")
    elif db.session.scalar(select(Module.id).where(Module.code == code)) is not None:
        problems.append(f"the code {code} is already used by another module")
    if not title:
        problems.append("give the exam a title")
    if problems:
        raise InvalidInput("The exam cannot be added: " + "; ".join(problems) + ".")
    position = (
        db.session.scalar(select(func.max(Module.position)).where(Module.course_id == course.id))
        or 0
    ) + 1
    module = Module(
        course_id=course.id, code=code, position=position, title=title[:200], estimated_minutes=60
    )
    db.session.add(module)
    db.session.flush()
    quiz = Quiz(module_id=module.id, title=title[:200], passing_score=70)
    db.session.add(quiz)
    db.session.flush()
    record_event(
        "module.created",
        actor=actor,
        now=now,
        target_type="module",
        target_id=module.id,
        details={"code": code, "course_id": course.id},
    )
    return quiz


# --- item analysis -----------------------------------------------------------------------


@dataclass(frozen=True)
class ItemReport:
    """One question's statistics with the texts to show them."""

    question: Question
    stats: rules.ItemStats
    choices: list[tuple[str, bool, int]]  # text, is correct, times picked


def item_analysis(actor: User, quiz_id: int) -> tuple[Quiz, list[ItemReport], int]:
    """Per question of a quiz's graded attempts: answered, share correct, point-biserial,
    and how often each choice was picked. Three queries whatever the number of attempts."""
    _require_staff(actor)
    quiz = get_quiz(quiz_id)
    rows = db.session.execute(
        select(
            AttemptAnswer.attempt_id,
            AttemptAnswer.question_id,
            AttemptAnswer.choice_ids,
            AttemptAnswer.is_correct,
            Attempt.score,
        )
        .join(Attempt, Attempt.id == AttemptAnswer.attempt_id)
        .where(Attempt.quiz_id == quiz.id, Attempt.status == AttemptStatus.SUBMITTED)
    ).all()
    responses = [
        rules.Response(
            attempt_id,
            question_id,
            frozenset(int(c) for c in choice_ids.split(",") if c),
            is_correct,
            float(score or 0),
        )
        for attempt_id, question_id, choice_ids, is_correct, score in rows
    ]
    stats = rules.item_statistics(responses)
    questions = {
        q.id: q
        for q in db.session.scalars(
            select(Question)
            .where(Question.id.in_([s.question_id for s in stats]))
            .options(selectinload(Question.choices))
        )
    }
    reports = [
        ItemReport(
            questions[s.question_id],
            s,
            [
                (c.text, c.is_correct, s.choice_counts.get(c.id, 0))
                for c in questions[s.question_id].choices
            ],
        )
        for s in stats
    ]
    attempts = len({r.attempt_id for r in responses})
    return quiz, reports, attempts


def draft_from_form(data: Mapping[str, str]) -> rules.DraftQuestion:
    """A draft from the question form: one choice per line, correct ones start with ``*``."""
    choices = []
    for line in data.get("choices", "").splitlines():
        if not line.strip():
            continue
        correct = line.lstrip().startswith("*")
        choices.append((line.strip().lstrip("*").strip(), correct))
    kind = data.get("kind", "single")
    if kind == "true_false" and not choices:
        truth = data.get("true_false_answer", "true") == "true"
        choices = [("True", truth), ("False", not truth)]
    year = data.get("code_set_year", "").strip()
    if year and not year.isdigit():
        raise InvalidInput("The code-set year is a year such as 2026.")
    return rules.DraftQuestion(
        stem=data.get("stem", ""),
        kind=kind,
        choices=tuple(choices),
        rationale=data.get("rationale", ""),
        content_area=data.get("content_area", ""),
        difficulty=data.get("difficulty", ""),
        code_set_year=int(year) if year else None,
        tags=tuple(t.strip() for t in data.get("tags", "").split(",") if t.strip()),
    )
