"""The audit log: every login, export and change to a record, chained by SHA-256.

Three things make the chain hard to forge or cut short:

- each event's hash covers the hash before it, so changing one event breaks every later link;
- each event carries a MAC of its hash under a key kept outside the database
  (``LMS_AUDIT_KEY``, or ``instance/audit_key`` made on first use), so rewriting the whole
  chain needs the key as well as the database;
- the head of the chain (the last event's id and hash) is written to the log after every
  commit that added events, and into every backup's manifest: ``verify_chain(anchor=...)``
  then tells whether events were cut off the end since.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import current_app, has_app_context, has_request_context, request
from sqlalchemy import event as orm_event
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from lms.extensions import db
from lms.ledger.models import AuditEvent

if TYPE_CHECKING:  # only a type: the ledger sits below auth and imports nothing of it
    from lms.auth.models import User

GENESIS_HASH = "0" * 64
HEAD_LOG = logging.getLogger("lms.audit")
_HEAD = "lms.audit_head"  # the last event a transaction added, kept in its session's info


def audit_key(*, create: bool = True) -> bytes | None:
    """The key of the events' MACs: ``LMS_AUDIT_KEY``, or the one kept in
    ``instance/audit_key`` (made, mode 0600, on first use when ``create``)."""
    configured = current_app.config.get("AUDIT_KEY")
    if configured:
        return str(configured).encode()
    path = Path(
        current_app.config.get("AUDIT_KEY_FILE") or Path(current_app.instance_path) / "audit_key"
    )
    if path.exists():
        return path.read_bytes().strip()
    if not create:
        return None
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it a moment ago
        return path.read_bytes().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_bytes().strip()


def event_mac(key: bytes, event_hash: str) -> str:
    """The MAC of an event: HMAC-SHA256 of its hash."""
    return hmac.new(key, event_hash.encode(), hashlib.sha256).hexdigest()


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
    key = audit_key()
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
        row["mac"] = event_mac(key, row["hash"])
        rows.append(row)
    # One multi-row INSERT: the ids follow the rows' order, which is the chain's.
    events = sorted(
        session.scalars(insert(AuditEvent).returning(AuditEvent), rows).all(),
        key=lambda event: event.id,
    )
    if events:
        session.info[_HEAD] = (events[-1].id, events[-1].hash)
    return events


@orm_event.listens_for(Session, "after_commit")
def _log_head(session: Session) -> None:
    """Write the chain's new head to the log once the events that made it are committed."""
    head = session.info.pop(_HEAD, None)
    if head is not None:
        HEAD_LOG.info(
            "audit head %s %s", *head, extra={"event": "audit_head", "id": head[0], "hash": head[1]}
        )


@orm_event.listens_for(Session, "after_rollback")
def _forget_head(session: Session) -> None:
    session.info.pop(_HEAD, None)


def chain_head() -> tuple[int, str] | None:
    """The last event's id and hash (the anchor to keep elsewhere), or None when empty."""
    row = db.session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


@dataclass(frozen=True)
class ChainCheck:
    """The result of walking the hash chain: how many events, and the first broken link."""

    checked: int
    broken_id: int | None = None
    reason: str | None = None
    unkeyed: int = 0  # events from before the MAC key existed
    keyed: bool = True  # False when no audit key was found: MACs were not checked

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def verify_chain(anchor: tuple[int, str] | None = None, batch: int = 2000) -> ChainCheck:
    """Recompute every event's hash and MAC in order; stop at the first that does not match.
    With ``anchor`` (an id and hash kept elsewhere: a log line, a backup's manifest), also
    check that the chain still holds that event unchanged, so that cutting events off its end
    is found."""
    key = audit_key(create=False) if has_app_context() else None
    previous = GENESIS_HASH
    checked = unkeyed = 0
    seen_mac = False
    last_id = 0
    columns = (
        AuditEvent.id,
        AuditEvent.prev_hash,
        AuditEvent.hash,
        AuditEvent.mac,
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
        for event_id, prev_hash, stored_hash, mac, *fields in result:
            problem = _link_problem(prev_hash, previous, stored_hash, fields)
            if problem is None and key is not None:
                problem = _mac_problem(key, stored_hash, mac, seen_mac)
            anchored = anchor is not None and event_id == anchor[0]
            if problem is None and anchored and stored_hash != anchor[1]:
                problem = "it is not the event the anchor recorded: the chain was rewritten"
            if problem is not None:
                return ChainCheck(checked, event_id, problem, unkeyed, key is not None)
            seen_mac = seen_mac or mac is not None
            unkeyed += mac is None
            previous = stored_hash
            last_id = event_id
            checked += 1
    finally:
        result.close()  # a server-side cursor on PostgreSQL
    if anchor is not None and last_id < anchor[0]:
        return ChainCheck(
            checked,
            anchor[0],
            f"the chain ends at event {last_id}, before the anchored event {anchor[0]}: "
            "events were cut off its end",
            unkeyed,
            key is not None,
        )
    return ChainCheck(checked, unkeyed=unkeyed, keyed=key is not None)


def _link_problem(prev_hash: str, previous: str, stored_hash: str, fields: list) -> str | None:
    if prev_hash != previous:
        return "its prev_hash is not the previous event's hash"
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
        return "its content does not match its hash"
    return None


def _mac_problem(key: bytes, stored_hash: str, mac: str | None, seen_mac: bool) -> str | None:
    if mac is None:
        # Only events from before the key existed lack a MAC, and they all come first.
        return "it has no MAC, yet events before it have one" if seen_mac else None
    if not hmac.compare_digest(mac, event_mac(key, stored_hash)):
        return "its MAC does not match the audit key: the chain was rewritten"
    return None
