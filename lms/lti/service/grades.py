"""Assignment and grade services: the score outbox and its sending, with retries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.auth.models import User
from lms.extensions import db
from lms.ledger import audit
from lms.ledger import service as ledger
from lms.ledger.models import LedgerEntry, LedgerKind
from lms.lti import platform_api, rules
from lms.lti.models import (
    LtiContext,
    LtiContextMember,
    LtiIdentity,
    LtiResourceLink,
    LtiScoreOutbox,
    ScoreStatus,
)

#: Key of ``db.session.info`` set when a score was queued in the current transaction.
SCORES_QUEUED = "lti_scores_queued"


def on_ledger_appended(entry: LedgerEntry, *, student: User, now: datetime, **_: object) -> None:
    """Queue the student's best score for every platform gradebook column linked to the module."""
    if entry.kind is not LedgerKind.MODULE_COMPLETED or entry.module_id is None:
        return
    targets = db.session.execute(
        select(LtiResourceLink.id, LtiIdentity.subject)
        .join(LtiContext, LtiContext.id == LtiResourceLink.context_id)
        .join(LtiContextMember, LtiContextMember.context_id == LtiContext.id)
        .join(
            LtiIdentity,
            (LtiIdentity.platform_id == LtiContext.platform_id)
            & (LtiIdentity.user_id == LtiContextMember.user_id),
        )
        .where(
            LtiResourceLink.module_id == entry.module_id,
            LtiResourceLink.lineitem_url.is_not(None),
            LtiContextMember.user_id == student.id,
            LtiContextMember.active.is_(True),
        )
    ).all()
    if not targets:
        return
    best = max(
        [c.best_score or 0 for c in ledger.best_completions([student.id], [entry.module_id])]
        + [entry.score or 0]
    )
    for link_id, subject in targets:
        db.session.add(
            LtiScoreOutbox(
                link_id=link_id,
                user_id=student.id,
                subject=subject,
                ledger_entry_id=entry.id,
                score=best,
                status=ScoreStatus.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    db.session.flush()
    # Tells the web layer that there is something to send once the response is out.
    db.session.info[SCORES_QUEUED] = True


@dataclass
class SendReport:
    """What one run of the outbox did."""

    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def send_due_scores(
    now: datetime, *, everything: bool = False, limit: int = 200, actor: User | None = None
) -> SendReport:
    """Send the scores whose time has come (or every waiting one); failures wait longer."""
    query = (
        select(LtiScoreOutbox)
        .where(LtiScoreOutbox.status == ScoreStatus.PENDING)
        .options(
            selectinload(LtiScoreOutbox.link)
            .selectinload(LtiResourceLink.context)
            .selectinload(LtiContext.platform)
        )
        .order_by(LtiScoreOutbox.id)
        .limit(limit)
    )
    if not everything:
        query = query.where(LtiScoreOutbox.next_attempt_at <= now)
    # Two senders at once (cron and a web worker) never take the same rows (PostgreSQL).
    rows = list(db.session.scalars(query.with_for_update(skip_locked=True)))
    report = SendReport()
    tokens: dict[int, str | platform_api.PlatformError] = {}
    for row in rows:
        platform = row.link.context.platform
        if platform.id not in tokens:
            try:
                tokens[platform.id] = platform_api.access_token(platform, [rules.SCOPE_SCORE], now)
            except platform_api.PlatformError as error:
                tokens[platform.id] = error
        token = tokens[platform.id]
        try:
            if isinstance(token, platform_api.PlatformError):
                raise token
            platform_api.post_score(
                row.link.lineitem_url or "",
                token,
                {
                    "userId": row.subject,
                    "scoreGiven": row.score,
                    "scoreMaximum": 100,
                    "activityProgress": "Completed",
                    "gradingProgress": "FullyGraded",
                    "timestamp": row.created_at.isoformat(),
                },
            )
        except platform_api.PlatformError as error:
            row.attempts += 1
            row.last_error = str(error)[:2000]
            row.next_attempt_at = now + rules.retry_delay(row.attempts)
            report.failed += 1
            report.errors.append(f"score {row.id}: {error}")
        else:
            row.attempts += 1
            row.status = ScoreStatus.SENT
            row.sent_at = now
            row.last_error = None
            report.sent += 1
    db.session.flush()
    if rows:
        audit.record_event(
            "lti.scores_sent",
            actor=actor,
            now=now,
            details={"sent": report.sent, "failed": report.failed},
        )
    return report


@dataclass(frozen=True)
class OutboxView:
    """The scores an admin sees: waiting (with their last error) and recently sent."""

    waiting: list[LtiScoreOutbox]
    sent: list[LtiScoreOutbox]


def score_outbox() -> OutboxView:
    """Every waiting score and the 50 last sent, in a fixed number of queries."""

    def load(status: ScoreStatus, order: Any, limit: int | None) -> list[LtiScoreOutbox]:
        query = (
            select(LtiScoreOutbox)
            .where(LtiScoreOutbox.status == status)
            .options(
                selectinload(LtiScoreOutbox.user),
                selectinload(LtiScoreOutbox.link)
                .selectinload(LtiResourceLink.context)
                .selectinload(LtiContext.platform),
            )
            .order_by(order)
        )
        if limit:
            query = query.limit(limit)
        return list(db.session.scalars(query))

    return OutboxView(
        waiting=load(ScoreStatus.PENDING, LtiScoreOutbox.id, None),
        sent=load(ScoreStatus.SENT, LtiScoreOutbox.id.desc(), 50),
    )
