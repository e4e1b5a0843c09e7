"""Fixtures shared by the enrolment tests."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from lms.auth.models import Role
from lms.extensions import db
from lms.ledger.models import AuditEvent, LedgerEntry
from tests import factories


@pytest.fixture
def school(app):
    """A course of three modules, a CPC credential needing all three, an instructor."""
    factories.course("TERM", modules=3)
    credential = factories.credential("CPC", modules=["TERM-1", "TERM-2", "TERM-3"])
    instructor = factories.user(Role.INSTRUCTOR, name="Dana Whitfield")
    return credential, instructor


def table_counts(*models) -> tuple[int, ...]:
    """Row counts of the given models, to prove that a refused request changed nothing."""
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in models)


def audit_actions() -> list[str]:
    """Every audit action so far, oldest first."""
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def ledger_count() -> int:
    """Rows in the completion ledger."""
    return db.session.scalar(select(func.count()).select_from(LedgerEntry))


def errors_beside(page: str) -> dict[str, list[str]]:
    """The messages inside each field's ``<div class="field has-error">``, by the field's name."""
    shown: dict[str, list[str]] = {}
    for block in re.findall(r'<div class="field has-error">(.*?)</div>', page, re.S):
        name = re.search(r'name="([^"]+)"', block).group(1)
        messages = re.findall(r'<p class="error" id="[^"]+">(.*?)</p>', block, re.S)
        shown[name] = [html.unescape(message) for message in messages]
    return shown


def inline_errors(page: str) -> list[tuple[str, str]]:
    """The refused inline forms of a table (the study plan, the exam booking): for each, the
    hidden value or action naming its row, and the message beside its date."""
    found = []
    for form in re.findall(r'<form [^>]*class="inline-form has-error"[^>]*>.*?</form>', page, re.S):
        row = re.search(r'name="module_code" value="([^"]+)"', form) or re.search(
            r'action="([^"]+)"', form
        )
        message = re.search(r'<p class="error" id="[^"]+">(.*?)</p>', form, re.S).group(1)
        found.append((row.group(1), html.unescape(message)))
    return found
