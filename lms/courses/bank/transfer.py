"""Questions in and out of banks: import (all or nothing) and export as Moodle XML, GIFT or
Aiken."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from lms.auth.models import User
from lms.courses import interchange
from lms.courses.bank import BANK_STAFF_ONLY
from lms.courses.bank.questions import bank_questions, draft_of, get_bank, store_question
from lms.courses.catalogue import require_staff
from lms.courses.interchange import aiken, gift, moodle_xml
from lms.courses.models import QuestionBank
from lms.errors import InvalidInput, NotFound, Problem
from lms.extensions import db
from lms.ledger.audit import record_event


def preview_import(data: bytes, fmt: str) -> interchange.ParseResult:
    """What an import of this file would do; nothing is written."""
    return interchange.parse(data, fmt)


def import_questions(
    actor: User | None, bank_name: str, data: bytes, fmt: str, now: datetime
) -> tuple[QuestionBank, interchange.ParseResult]:
    """Import every question of the file into the named bank, or none: when any item is
    refused, nothing is written and the error lists every problem."""
    if actor is not None:
        require_staff(actor, BANK_STAFF_ONLY)
    result = interchange.parse(data, fmt)
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
    for item in result.items:
        store_question(bank.id, item.draft)
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
    """A bank's live questions as Moodle XML, GIFT or Aiken (bytes and a file name)."""
    require_staff(actor, BANK_STAFF_ONLY)
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
