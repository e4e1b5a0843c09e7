"""The completion ledger: append entries, and read the facts the other domains need."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from blinker import Namespace
from sqlalchemy import ColumnElement, Float, case, cast, func, insert, select
from sqlalchemy.orm import selectinload

from lms.db import among, utc_date
from lms.extensions import db
from lms.ledger.models import LedgerEntry, LedgerKind

if TYPE_CHECKING:  # only a type: the ledger sits below auth and imports nothing of it
    from lms.auth.models import User

signals = Namespace()
#: Sent with the new entry after it is flushed, so readiness is recomputed at once.
ledger_appended = signals.signal("ledger-appended")
#: Sent when a fact readiness is judged on changes without a ledger entry (an attempt graded,
#: time on task credited, a credential's requirements saved), in the same transaction, so the
#: read models above (the cohort's progress rows) are brought up to date at once. Keyword
#: arguments: ``student_ids`` (the students whose facts changed) or ``credential_id`` (every
#: student judged against it), and ``now``.
facts_changed = signals.signal("facts-changed")


def append_entry(
    *,
    student: User,
    kind: LedgerKind,
    source: str,
    actor: User | None,
    now: datetime,
    module_id: int | None = None,
    credential_id: int | None = None,
    evidence_id: int | None = None,
    score: float | None = None,
    source_ref: str | None = None,
    note: str | None = None,
    met: bool | None = None,
    cohort_id: int | None = None,
    module_version: int | None = None,
) -> LedgerEntry:
    """Append one entry to the ledger in the current transaction; nothing is ever updated.
    ``met`` is an override's verdict, ``cohort_id`` the cohort it was recorded in,
    ``module_version`` the version of the module a completion passed."""
    fields = {
        "module_id": module_id,
        "module_version": module_version,
        "credential_id": credential_id,
        "evidence_id": evidence_id,
        "score": score,
        "source_ref": source_ref,
        "note": note,
        "met": met,
        "cohort_id": cohort_id,
    }
    (entry,) = append_entries(kind, source=source, actor=actor, now=now, rows=[(student, fields)])
    return entry


def append_entries(
    kind: LedgerKind,
    *,
    source: str,
    actor: User | None,
    now: datetime,
    rows: Sequence[tuple[User, dict[str, Any]]],
) -> list[LedgerEntry]:
    """Append one entry of ``kind`` per (student, its fields such as ``credential_id`` or
    ``source_ref``) in the current transaction and one statement however many; each is
    announced with ``ledger_appended`` once all are flushed."""
    if not rows:
        return []
    values = []
    for student, fields in rows:
        score = fields.get("score")
        values.append(
            {
                **fields,
                "score": None if score is None else round(score, 2),
                "student_id": student.id,
                "kind": kind,
                "source": source,
                "actor_id": actor.id if actor is not None else None,
                "recorded_at": now,
            }
        )
    # One multi-row INSERT: the ids follow the rows' order.
    inserted = db.session.scalars(insert(LedgerEntry).returning(LedgerEntry), values).all()
    entries = sorted(inserted, key=lambda entry: entry.id)
    for (student, _), entry in zip(rows, entries, strict=True):
        ledger_appended.send(entry, student=student, now=now, actor=actor)
    return entries


#: Rows fetched at a time by the readers that stream a cohort's facts: few enough that they
#: never pile up as objects, enough that the driver is not called once per row.
STREAM_BATCH = 250


class Completion(NamedTuple):
    """A student's best recorded completion of a module."""

    student_id: int
    module_id: int
    best_score: float | None
    first_completed_on: date


def best_completions(student_ids: Iterable[int], module_ids: Iterable[int]) -> list[Completion]:
    """Best completion per student and module, in one query whatever the number of students."""
    return [Completion(*row) for row in stream_best_completions(student_ids, module_ids)]


def stream_best_completions(
    student_ids: Iterable[int], module_ids: Iterable[int]
) -> Iterator[tuple[int, int, float | None, date]]:
    """``best_completions`` as plain (student, module, best score, first completed on) tuples,
    read from the database one at a time: a large cohort's 25,000 are never all held at once
    (holding them made the garbage collector sweep the whole heap on each cohort page).

    The query asks by student and kind only (the ``student_id, kind, module_id`` index) and
    the modules are picked here: probing every student x module pair of a large cohort costs
    the database more than reading the few completions of other modules."""
    student_ids, wanted = list(student_ids), set(module_ids)
    if not student_ids or not wanted:
        return
    rows = db.session.connection().execute(
        select(
            LedgerEntry.student_id,
            LedgerEntry.module_id,
            # a float and a date straight from the database: cheaper for the driver to
            # decode than a numeric and a timestamp with its zone, 25,000 times
            cast(func.max(LedgerEntry.score), Float),
            utc_date(func.min(LedgerEntry.recorded_at)),
        )
        .where(
            LedgerEntry.kind == LedgerKind.MODULE_COMPLETED,
            among(LedgerEntry.student_id, student_ids),
        )
        .group_by(LedgerEntry.student_id, LedgerEntry.module_id)
    )
    for batch in rows.partitions(STREAM_BATCH):
        for student_id, module_id, best, first in batch:
            if module_id in wanted:
                yield student_id, module_id, best, first


class OverrideScope(NamedTuple):
    """Where readiness is judged, and so which overrides count there: the cohort (None:
    outside any cohort, as the API judges a credential) and its credential.

    An override counts only in the cohort it was recorded in. One recorded before overrides
    kept their cohort (``cohort_id`` null) counts in every cohort of the credential it was
    recorded for (every credential, if it names none), and outside any cohort: where it
    counted before."""

    cohort_id: int | None
    credential_id: int | None

    def condition(self) -> ColumnElement[bool]:
        """The override entries that count in this scope."""
        unscoped = LedgerEntry.cohort_id.is_(None) & (
            LedgerEntry.credential_id.is_(None) | (LedgerEntry.credential_id == self.credential_id)
        )
        if self.cohort_id is None:
            return unscoped
        return (LedgerEntry.cohort_id == self.cohort_id) | unscoped


_OVERRIDE_KINDS = (LedgerKind.OVERRIDE_GRANTED, LedgerKind.OVERRIDE_REVOKED)


def current_overrides(
    student_ids: Iterable[int], scope: OverrideScope
) -> dict[int, dict[str, bool]]:
    """Each student's standing overrides in ``scope``, by leaf key, in one query.

    An ``override_granted`` entry (its verdict in ``met``, the leaf key in ``source_ref``)
    decides a requirement; a later ``override_revoked`` for the same key withdraws it, so the
    facts decide again. The newest entry per key that counts in the scope wins."""
    student_ids = list(student_ids)
    result: dict[int, dict[str, bool]] = {sid: {} for sid in student_ids}
    if not student_ids:
        return result
    rows = db.session.execute(
        select(LedgerEntry.student_id, LedgerEntry.kind, LedgerEntry.met, LedgerEntry.source_ref)
        .where(
            LedgerEntry.kind.in_(_OVERRIDE_KINDS),
            among(LedgerEntry.student_id, student_ids),
            scope.condition(),
        )
        .order_by(LedgerEntry.id)
    )
    for student_id, kind, met, key in rows:
        if key is None:
            continue
        if kind is LedgerKind.OVERRIDE_GRANTED:
            result[student_id][key] = bool(met)
        else:
            result[student_id].pop(key, None)
    return result


def exported_source() -> ColumnElement[str]:
    """``source`` as exports and the API show it: an override's verdict spelled into it
    (``override:met``, ``override:not_met``), as it was stored before ``met`` kept it."""
    return case(
        (LedgerEntry.met.is_(True), "override:met"),
        (LedgerEntry.met.is_(False), "override:not_met"),
        else_=LedgerEntry.source,
    )


def last_recorded(student_ids: Iterable[int]) -> dict[int, datetime]:
    """The time of each student's newest entry of their own work (a completion or submitted
    evidence), in one query; entries made by staff, such as overrides, do not count."""
    student_ids = list(student_ids)
    if not student_ids:
        return {}
    rows = db.session.execute(
        select(LedgerEntry.student_id, func.max(LedgerEntry.recorded_at))
        .where(
            among(LedgerEntry.student_id, student_ids),
            LedgerEntry.kind.in_([LedgerKind.MODULE_COMPLETED, LedgerKind.EVIDENCE_SUBMITTED]),
        )
        .group_by(LedgerEntry.student_id)
    )
    result = {}
    for student_id, last in rows:
        if isinstance(last, str):
            last = datetime.fromisoformat(last)
        result[student_id] = last if last.tzinfo else last.replace(tzinfo=UTC)
    return result


def override_entries(student_ids: Iterable[int], scope: OverrideScope) -> list[LedgerEntry]:
    """Every override entry of the given students that counts in ``scope``, oldest first,
    with their actors."""
    student_ids = list(student_ids)
    if not student_ids:
        return []
    return list(
        db.session.scalars(
            select(LedgerEntry)
            .where(
                LedgerEntry.kind.in_(_OVERRIDE_KINDS),
                LedgerEntry.student_id.in_(student_ids),
                scope.condition(),
            )
            .options(selectinload(LedgerEntry.actor))
            .order_by(LedgerEntry.id)
        )
    )


def find_entry(
    *, student_id: int, kind: LedgerKind, module_id: int | None, source: str, source_ref: str
) -> LedgerEntry | None:
    """The first entry with this source reference, so a retried report is not recorded twice."""
    return db.session.scalar(
        select(LedgerEntry)
        .where(
            LedgerEntry.student_id == student_id,
            LedgerEntry.kind == kind,
            LedgerEntry.module_id == module_id,
            LedgerEntry.source == source,
            LedgerEntry.source_ref == source_ref,
        )
        .order_by(LedgerEntry.id)
        .limit(1)
    )
