"""The audit log: every login, export and change to a record, chained by SHA-256."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from flask import has_request_context, request
from sqlalchemy import select, text

from lms.auth.models import User
from lms.extensions import db
from lms.records.models import AuditEvent

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
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        # Serialise writers so that two events never chain to the same predecessor.
        session.execute(text("SELECT pg_advisory_xact_lock(4242001)"))
    prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    event = AuditEvent(
        occurred_at=now,
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        ip=request.remote_addr if has_request_context() else None,
        details=details or {},
        prev_hash=prev or GENESIS_HASH,
    )
    event.hash = chain_hash(event.prev_hash, event_body(event))
    session.add(event)
    session.flush()
    return event
