"""The SQL helpers of lms/db.py give the same answers on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import func, select, text

from lms.auth.models import Role
from lms.db import among, utc_date, utc_text
from lms.extensions import db
from lms.ledger.models import LedgerEntry, LedgerKind
from tests import factories
from tests.conftest import ON_POSTGRES

EVENING = timezone(timedelta(hours=-5))


def entry(student, when: datetime) -> LedgerEntry:
    row = LedgerEntry(
        student_id=student.id,
        kind=LedgerKind.EVIDENCE_SUBMITTED,
        source="test",
        recorded_at=when,
    )
    db.session.add(row)
    return row


def test_among_keeps_exactly_the_rows_of_the_ids_given(app):
    students = [factories.user(Role.STUDENT) for _ in range(5)]
    for student in students:
        entry(student, datetime(2026, 1, 1, tzinfo=UTC))
    db.session.commit()
    chosen = [students[1].id, students[3].id, 999_999]

    def ids_among(ids):
        query = select(LedgerEntry.student_id).where(among(LedgerEntry.student_id, ids))
        return sorted(db.session.scalars(query))

    assert ids_among(chosen) == sorted(chosen[:2])
    assert ids_among([]) == []
    assert ids_among(s.id for s in students) == sorted(s.id for s in students)


def test_utc_date_and_utc_text_read_the_time_in_utc_and_order_like_it(app):
    student = factories.user(Role.STUDENT)
    # 22:30 in UTC-5 is 03:30 the next day in UTC; fractions with and without trailing zeros
    times = [
        datetime(2026, 3, 1, 22, 30, tzinfo=EVENING),
        datetime(2026, 3, 2, 3, 30, 0, 500000, tzinfo=UTC),
        datetime(2026, 3, 2, 3, 30, 0, 250000, tzinfo=UTC),
        datetime(2026, 3, 2, 3, 30, 0, 50000, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    for when in times:
        entry(student, when)
    db.session.commit()
    if ON_POSTGRES:  # a session in another zone must not move the dates or the texts
        db.session.execute(text("SET TIME ZONE 'America/Chicago'"))
    rows = db.session.execute(
        select(utc_date(LedgerEntry.recorded_at), utc_text(LedgerEntry.recorded_at)).order_by(
            LedgerEntry.id
        )
    ).all()
    assert [day for day, _ in rows] == [date(2026, 3, 2)] * 4 + [date(2026, 12, 31)]
    texts = [written for _, written in rows]
    parsed = [datetime.fromisoformat(written).replace(tzinfo=UTC) for written in texts]
    assert parsed == [when.astimezone(UTC) for when in times]
    assert sorted(texts) == [t for _, t in sorted(zip(parsed, texts, strict=True))]
    newest = db.session.scalar(select(utc_text(func.max(LedgerEntry.recorded_at))))
    assert newest == max(texts)
    first = db.session.scalar(select(utc_date(func.min(LedgerEntry.recorded_at))))
    assert first == date(2026, 3, 2)
