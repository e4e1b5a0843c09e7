"""Item analysis of a quiz's graded attempts: how each question and each choice performed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.auth.models import User
from lms.courses.bank import BANK_STAFF_ONLY
from lms.courses.bank.quizzes import get_quiz
from lms.courses.catalogue import require_staff
from lms.courses.models import Attempt, AttemptAnswer, AttemptStatus, Question, Quiz
from lms.courses.rules import items
from lms.extensions import db


@dataclass(frozen=True)
class ItemReport:
    """One question's statistics with the texts to show them."""

    question: Question
    stats: items.ItemStats
    choices: list[tuple[str, bool, int]]  # text, is correct, times picked


def item_analysis(actor: User, quiz_id: int) -> tuple[Quiz, list[ItemReport], int]:
    """Per question of a quiz's graded attempts: answered, share correct, point-biserial,
    and how often each choice was picked. Three queries whatever the number of attempts."""
    require_staff(actor, BANK_STAFF_ONLY)
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
        items.Response(attempt_id, question_id, frozenset(chosen), is_correct, float(score or 0))
        for attempt_id, question_id, chosen, is_correct, score in rows
    ]
    stats = items.item_statistics(responses)
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
