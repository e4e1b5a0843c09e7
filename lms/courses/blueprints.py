"""A quiz's blueprint (draw N questions carrying tag T from its bank) as stored, and a bank's
live questions as the drawer sees them."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from sqlalchemy import select

from lms.courses.models import Question, Quiz
from lms.courses.rules import drawing
from lms.extensions import db


def bank_pool(bank_id: int | None) -> list[drawing.PoolQuestion]:
    """The live questions of a bank, each with its labels (content area and tags), in one
    query."""
    rows = db.session.execute(
        select(Question.id, Question.content_area, Question.tags).where(
            Question.bank_id == bank_id, Question.retired_at.is_(None)
        )
    )
    return [drawing.PoolQuestion(id_, drawing.labels_of(area, tags)) for id_, area, tags in rows]


def tag_counts(bank_id: int) -> list[tuple[str, int]]:
    """How many live questions carry each label in a bank (for building blueprints)."""
    counts = Counter(label for question in bank_pool(bank_id) for label in question.labels)
    return sorted(counts.items())


def blueprint_rows(quiz: Quiz) -> list[drawing.BlueprintRow]:
    """The quiz's blueprint, empty for a fixed list."""
    return drawing.parse_blueprint(json.loads(quiz.blueprint)) if quiz.blueprint else []


def stored_blueprint(rows: Sequence[drawing.BlueprintRow]) -> str:
    """The blueprint as the quiz keeps it (JSON), empty for a fixed list."""
    return json.dumps([{"tag": r.tag, "count": r.count} for r in rows]) if rows else ""


def question_count(quiz: Quiz) -> int:
    """How many questions an attempt at the quiz has (fixed list or blueprint total)."""
    rows = blueprint_rows(quiz)
    return sum(row.count for row in rows) if rows else len(quiz.items)
