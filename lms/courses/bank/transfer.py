"""Questions in and out of banks: import (all or nothing) and export as Moodle XML, GIFT or
Aiken."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update

from lms.auth.models import User
from lms.courses import interchange
from lms.courses.bank import BANK_STAFF_ONLY, EDIT_BANKS
from lms.courses.bank.questions import (
    bank_questions,
    choice_row,
    draft_of,
    get_bank,
    question_row,
)
from lms.courses.catalogue import require_author, require_staff
from lms.courses.interchange import aiken, gift, grades, moodle_xml
from lms.courses.models import Choice, Question, QuestionBank
from lms.courses.rules.questions import DraftQuestion
from lms.errors import InvalidInput, NotFound, Problem
from lms.extensions import db
from lms.ledger.audit import record_event


def preview_import(
    data: bytes, fmt: str, limits: interchange.Limits | None = None
) -> interchange.ParseResult:
    """What an import of this file would do, within ``limits``; nothing is written."""
    return interchange.parse(data, fmt, limits)


def import_questions(
    actor: User | None,
    bank_name: str,
    data: bytes,
    fmt: str,
    now: datetime,
    limits: interchange.Limits | None = None,
) -> tuple[QuestionBank, interchange.ParseResult]:
    """Import every question of the file into the named bank, or none: when any item is
    refused (or the file is past ``limits``), nothing is written and the error lists every
    problem. The questions and their choices go in with a few multi-row INSERTs."""
    if actor is not None:
        require_author(actor, EDIT_BANKS)
    result = interchange.parse(data, fmt, limits)
    if not result.ok:
        raise InvalidInput(
            problems=[
                Problem("Nothing was imported."),
                *(Problem(str(problem)) for problem in result.problems),
            ]
        )
    name = bank_name.strip()
    if not name:
        raise InvalidInput("Give the bank a name.", field="bank")
    bank = db.session.scalar(select(QuestionBank).where(QuestionBank.name == name))
    if bank is None:
        bank = QuestionBank(name=name[:200])
        db.session.add(bank)
        db.session.flush()
    store_questions(bank.id, [item.draft for item in result.items])
    record_event(
        "bank.imported",
        actor=actor,
        now=now,
        target_type="question_bank",
        target_id=bank.id,
        details={"format": fmt, "questions": len(result.items)},
    )
    return bank, result


def store_questions(bank_id: int, drafts: list[DraftQuestion]) -> list[int]:
    """Write checked drafts into a bank as first versions; their ids, in order.

    A few multi-row statements whatever the number: SQLAlchemy's "insertmanyvalues" sends
    the questions, then the choices, as INSERTs of up to 1,000 rows each, and one UPDATE
    gives every new question its own id as family. A statement per row (and the ORM's work
    for each) made a large import hold SQLite's write lock, which every other writer waits
    for, many times as long. Multi-row INSERTs promise no order for the ids they return, so
    each question row carries its place as a negative ``family_id`` until that UPDATE, in
    the same transaction: no committed row ever has one."""
    rows = [
        question_row(bank_id, draft, family_id=-(place + 1)) for place, draft in enumerate(drafts)
    ]
    ids = [0] * len(rows)
    # The tables, not the classes: the ORM's bulk path costs more than the statements.
    question, choice = Question.__table__, Choice.__table__
    returned = db.session.execute(
        insert(question).returning(question.c.id, question.c.family_id), rows
    )
    for question_id, place in returned:
        ids[-place - 1] = question_id
    db.session.execute(
        update(Question)
        .where(Question.bank_id == bank_id, Question.family_id < 0)
        .values(family_id=Question.id)
        .execution_options(synchronize_session=False)
    )
    choices = [
        choice_row(question_id, position, text, correct)
        for question_id, draft in zip(ids, drafts, strict=True)
        for position, (text, correct) in enumerate(draft.choices)
    ]
    if choices:
        # RETURNING only so that SQLite batches too (it sends an INSERT without one row by row)
        db.session.execute(insert(choice).returning(choice.c.id), choices)
    return ids


def export_bank(actor: User, bank_id: int, fmt: str, now: datetime) -> tuple[bytes, str]:
    """A bank's live questions as Moodle XML, GIFT or Aiken (bytes and a file name). What a
    format cannot hold is left out, listed in a comment at the top of the file and in the
    audit entry (and on the bank's page, ``left_out_of_moodle``)."""
    require_staff(actor, BANK_STAFF_ONLY)
    bank = get_bank(bank_id)
    drafts = [draft_of(q) for q in bank_questions(bank.id)]
    slug = "".join(c if c.isalnum() else "-" for c in bank.name.lower()).strip("-")[:60] or "bank"
    if fmt == "moodle_xml":
        body, skipped = moodle_xml.export(drafts, bank.name)
        filename = f"{slug}.xml"
    elif fmt == "gift":
        text, skipped = gift.export(drafts)
        body, filename = text.encode("utf-8"), f"{slug}.gift"
    elif fmt == "aiken":
        text, skipped = aiken.export(drafts)
        body, filename = text.encode("utf-8"), f"{slug}.txt"
    else:
        raise NotFound("There is no such export format.")
    record_event(
        "bank.exported",
        actor=actor,
        now=now,
        target_type="question_bank",
        target_id=bank.id,
        details={"format": fmt, "questions": len(drafts) - len(skipped), "left_out": skipped},
    )
    return body, filename


def left_out_of_moodle(questions: list[Question]) -> list[Question]:
    """The questions a Moodle XML or GIFT export leaves out: Moodle's grades cannot mark them."""
    return [q for q in questions if grades.export_grades(draft_of(q)) is None]
