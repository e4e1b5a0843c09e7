"""The audit log page's search: events by actor, action, target and time, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms.auth.models import User
from lms.extensions import db
from lms.ledger.models import AuditEvent


@dataclass(frozen=True)
class AuditSearch:
    """What to look for in the audit log; None means any."""

    actor_email: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    before: datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    """One page of matching events, newest first."""

    events: list[AuditEvent]
    page: int
    has_next: bool


def search_events(search: AuditSearch, page: int = 1, per_page: int = 50) -> AuditPage:
    """Events matching ``search``, newest first, one page at a time (two queries at most)."""
    query = select(AuditEvent).options(selectinload(AuditEvent.actor))
    if search.actor_email:
        actor_ids = select(User.id).where(
            func.lower(User.email).contains(search.actor_email.lower())
        )
        query = query.where(AuditEvent.actor_id.in_(actor_ids))
    if search.action:
        query = query.where(AuditEvent.action.startswith(search.action))
    if search.target_type:
        query = query.where(AuditEvent.target_type == search.target_type)
    if search.target_id:
        query = query.where(AuditEvent.target_id == search.target_id)
    if search.since:
        query = query.where(AuditEvent.occurred_at >= search.since)
    if search.before:
        query = query.where(AuditEvent.occurred_at < search.before)
    rows = list(
        db.session.scalars(
            query.order_by(AuditEvent.id.desc()).offset((page - 1) * per_page).limit(per_page + 1)
        )
    )
    return AuditPage(rows[:per_page], page, len(rows) > per_page)
