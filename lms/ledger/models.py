"""The completion ledger and the audit log: rows are added, never changed or removed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import UTCDateTime, enum_column
from lms.extensions import db

if TYPE_CHECKING:  # only a type: the ledger sits below auth and imports nothing of it
    from lms.auth.models import User


class LedgerKind(StrEnum):
    """What a ledger entry records."""

    MODULE_COMPLETED = "module_completed"
    EVIDENCE_SUBMITTED = "evidence_submitted"
    EVIDENCE_VERIFIED = "evidence_verified"
    EVIDENCE_REJECTED = "evidence_rejected"
    CERTIFICATE_ISSUED = "certificate_issued"
    CERTIFICATE_REVOKED = "certificate_revoked"
    EXAM_OUTCOME_RECORDED = "exam_outcome_recorded"
    OVERRIDE_GRANTED = "override_granted"
    OVERRIDE_REVOKED = "override_revoked"


class LedgerEntry(db.Model):
    """One fact about a student's progress, as it was recorded; corrections are new rows."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        # Student, kind and module: every read of a student's ledger names the first two, and
        # many the third (a completion of one module, a report seen before); with only
        # (student, kind), SQLite without statistics preferred the module_id index and read
        # every student's entries for that module.
        Index("ix_ledger_entry_student_kind_module", "student_id", "kind", "module_id"),
        Index("ix_ledger_entry_recorded_at", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[LedgerKind] = mapped_column(enum_column(LedgerKind, "ledger_kind"))
    module_id: Mapped[int | None] = mapped_column(ForeignKey("module.id"), index=True)
    # A completion's module version (``ModuleVersion.number``) the student passed, so a
    # transcript names what was studied; None on other entries and before versions were kept.
    module_version: Mapped[int | None]
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("credential.id"))
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))
    score: Mapped[float | None] = mapped_column(Numeric(5, 2, asdecimal=False))
    source: Mapped[str] = mapped_column(String(40))
    # An override's verdict: the requirement is met (true) or not met (false); None on every
    # other entry, a reversal included.
    met: Mapped[bool | None]
    source_ref: Mapped[str | None] = mapped_column(String(64))
    # An override's scope: the cohort it was recorded in, where alone it counts (see
    # ``service.OverrideScope``); None on every other entry and on overrides recorded before
    # overrides had a scope. A plain number, as the ledger knows the cohort only by its id.
    cohort_id: Mapped[int | None]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)

    student: Mapped[User] = relationship("User", foreign_keys=[student_id], lazy="raise")
    actor: Mapped[User | None] = relationship("User", foreign_keys=[actor_id], lazy="raise")


class AuditEvent(db.Model):
    """Who did what to which record, when and from where; chained by hash to the previous."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # HMAC-SHA256 of ``hash`` under a key kept outside the database (``LMS_AUDIT_KEY``): a
    # chain rewritten by someone with only the database cannot carry valid MACs. Events
    # recorded before the key existed have none.
    mac: Mapped[str | None] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship("User", lazy="raise")


@event.listens_for(LedgerEntry, "before_update")
@event.listens_for(LedgerEntry, "before_delete")
@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_changes(mapper: Any, connection: Any, target: Any) -> None:
    raise PermissionError(f"{type(target).__name__} rows are append-only")
