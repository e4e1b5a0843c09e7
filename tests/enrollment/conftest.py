"""Fixtures shared by the enrolment tests."""

from __future__ import annotations

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
