"""Importing into a bank: the questions and their choices go in with a few multi-row
statements whatever their number, each with its own family, and all or nothing."""

import pytest
from sqlalchemy import func, select

from lms.courses.bank import transfer
from lms.courses.bank.questions import bank_questions, draft_of
from lms.courses.interchange import Limits
from lms.courses.models import Choice, Question, QuestionBank
from lms.errors import InvalidInput
from lms.extensions import db
from tests import factories
from tests.conftest import count_queries, writes_in


def gift(count: int, start: int = 0) -> bytes:
    return "\n\n".join(
        f'// lms-meta: {{"tags": ["area:Area {n % 3}", "NCCI"]}}\n'
        f"Question {n}? {{=right {n} ~wrong {n} ~other {n} ####Why {n}.}}"
        if n % 2
        else f"Statement {n}. {{F}}"
        for n in range(start, start + count)
    ).encode()


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("questions", [10, 1200])
def test_an_import_writes_in_a_fixed_number_of_statements(app, questions):
    with count_queries() as statements:
        transfer.import_questions(None, "Big", gift(questions), "gift", factories.NOW)
    writes = writes_in(statements)
    question_inserts = [s for s in writes if s.lstrip().startswith("INSERT INTO question ")]
    choice_inserts = [s for s in writes if s.lstrip().startswith("INSERT INTO choice ")]
    pages = -(-questions // 1000)  # SQLAlchemy's insertmanyvalues sends 1,000 rows at most
    assert len(question_inserts) == pages
    assert 1 <= len(choice_inserts) <= -(-questions * 3 // 1000) + 1
    assert len(writes) <= 2 * pages + 12  # the bank, the UPDATE of families, the audit entry
    db.session.commit()
    assert count(Question) == questions


def test_imported_questions_are_first_versions_each_of_its_own_family(app):
    existing = QuestionBank(name="Big")
    db.session.add(existing)
    db.session.flush()
    bank, result = transfer.import_questions(None, "Big", gift(7), "gift", factories.NOW)
    transfer.import_questions(None, "Big", gift(5, start=7), "gift", factories.NOW)
    db.session.commit()
    stored = bank_questions(bank.id)
    assert len(stored) == 12
    assert all(q.family_id == q.id and q.version == 1 for q in stored)
    assert [draft_of(q) for q in stored[:7]] == [item.draft for item in result.items]
    assert stored[1].tags == ["NCCI"] and stored[1].content_area == "Area 1"
    assert [c.position for c in stored[1].choices] == [0, 1, 2]


def test_a_file_over_a_limit_writes_nothing(app):
    with pytest.raises(InvalidInput) as refused:
        transfer.import_questions(
            None, "Big", gift(4), "gift", factories.NOW, Limits(max_questions=3)
        )
    assert "more than 3 questions" in refused.value.message
    with pytest.raises(InvalidInput, match="larger than"):
        transfer.import_questions(None, "Big", gift(4), "gift", factories.NOW, Limits(100))
    db.session.rollback()
    assert count(Question) == count(Choice) == count(QuestionBank) == 0
