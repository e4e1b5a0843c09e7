"""The audit log: every login, export and change to a record, chained by SHA-256."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import has_request_context, request
from sqlalchemy import insert, select, text

from lms.extensions import db
from lms.ledger.models import AuditEvent

if TYPE_CHECKING:  # only a type: the ledger sits below auth and imports nothing of it
    from lms.auth.models import User

GENESIS_HASH = "0" * 64


def chain_hash(prev_hash: str, event: dict[str, Any]) -> str:
    """The hash of an event, bound to the hash of the one before it."""
    body = json.dumps(event, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def event_body(event: AuditEvent) -> dict[str, Any]:
    """The fields of an event that its hash covers."""
    return {
        "occurred_at": event.occurred_at.isoformat(),
        "actor_id": event.actor_id,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "ip": event.ip,
        "details": event.details,
    }


def record_event(
    action: str,
    *,
    actor: User | None,
    now: datetime,
    target_type: str | None = None,
    target_id: object = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an audit event in the current transaction (the caller commits)."""
    (event,) = record_events(
        action, actor=actor, now=now, target_type=target_type, targets=[(target_id, details)]
    )
    return event


def record_events(
    action: str,
    *,
    actor: User | None,
    now: datetime,
    target_type: str | None = None,
    targets: Iterable[tuple[object, dict[str, Any] | None]],
) -> list[AuditEvent]:
    """Append one audit event of ``action`` per target (its id and details), chained in
    order, in the current transaction and a fixed number of statements however many (the
    caller commits)."""
    targets = list(targets)
    if not targets:
        return []
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        # Serialise writers so that two events never chain to the same predecessor.
        session.execute(text("SELECT pg_advisory_xact_lock(4242001)"))
    prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    prev = prev or GENESIS_HASH
    ip = request.remote_addr if has_request_context() else None
    rows = []
    for target_id, details in targets:
        row = {
            "occurred_at": now,
            "actor_id": actor.id if actor is not None else None,
            "action": action,
            "target_type": target_type,
            "target_id": None if target_id is None else str(target_id),
            "ip": ip,
            "details": details or {},
            "prev_hash": prev,
        }
        row["hash"] = prev = chain_hash(prev, event_body(AuditEvent(**row)))
        rows.append(row)
    # One multi-row INSERT: the ids follow the rows' order, which is the chain's.
    events = session.scalars(insert(AuditEvent).returning(AuditEvent), rows).all()
    return sorted(events, key=lambda event: event.id)


@dataclass(frozen=True)
class ChainCheck:
    """The result of walking the hash chain: how many events, and the first broken link."""

    checked: int
    broken_id: int | None = None
    reason: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def verify_chain(batch: int = 2000) -> ChainCheck:
    """Recompute every event's hash in order; stop at the first that does not match."""
    previous = GENESIS_HASH
    checked = 0
    columns = (
        AuditEvent.id,
        AuditEvent.prev_hash,
        AuditEvent.hash,
        AuditEvent.occurred_at,
        AuditEvent.actor_id,
        AuditEvent.action,
        AuditEvent.target_type,
        AuditEvent.target_id,
        AuditEvent.ip,
        AuditEvent.details,
    )
    query = select(*columns).order_by(AuditEvent.id).execution_options(yield_per=batch)
    result = db.session.execute(query)
    try:
        for event_id, prev_hash, stored_hash, *fields in result:
            if prev_hash != previous:
                return ChainCheck(
                    checked, event_id, "its prev_hash is not the previous event's hash"
                )
            event = AuditEvent(
                occurred_at=fields[0],
                actor_id=fields[1],
                action=fields[2],
                target_type=fields[3],
                target_id=fields[4],
                ip=fields[5],
                details=fields[6],
            )
            if stored_hash != chain_hash(prev_hash, event_body(event)):
                return ChainCheck(checked, event_id, "its content does not match its hash")
            previous = stored_hash
            checked += 1
    finally:
        result.close()  # a server-side cursor on PostgreSQL
    return ChainCheck(checked)
