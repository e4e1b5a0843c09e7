"""In-app notices: the bell in every page's header and the list behind it.

The domains above write a notice when something happens to a user's records (evidence
verified or rejected, a certificate issued or revoked, an announcement to their cohort);
``notify`` adds the rows and raises each recipient's unread count in the same transaction,
so the header reads the count from the logged-in user's row without a query of its own."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, insert, select, update

from lms.auth.models import Notice, User
from lms.extensions import db

#: How many notices the list shows; older ones stay stored.
SHOWN = 50


def notify(user_ids: Iterable[int], kind: str, text: str, link: str | None, now: datetime) -> int:
    """One notice to each user (``link`` a path inside the app); how many were written. Two
    statements whatever the number of users."""
    ids = sorted(set(user_ids))
    if not ids:
        return 0
    db.session.execute(
        insert(Notice),
        [
            {"user_id": user_id, "kind": kind, "text": text[:1000], "link": link,
             "created_at": now}
            for user_id in ids
        ],
    )  # fmt: skip
    db.session.execute(
        update(User)
        .where(User.id.in_(ids))
        .values(unread_notices=User.unread_notices + 1)
        .execution_options(synchronize_session=False)
    )
    return len(ids)


def notices_of(user: User, limit: int = SHOWN) -> list[Notice]:
    """The user's newest notices, read or not."""
    return list(
        db.session.scalars(
            select(Notice)
            .where(Notice.user_id == user.id)
            .order_by(Notice.created_at.desc(), Notice.id.desc())
            .limit(limit)
        )
    )


def mark_all_read(user: User, now: datetime) -> int:
    """Mark every unread notice of the user read; how many were."""
    result = db.session.execute(
        update(Notice)
        .where(Notice.user_id == user.id, Notice.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    user.unread_notices = 0
    db.session.flush()
    return result.rowcount or 0


def unread_count(user_id: int) -> int:
    """The unread notices of a user, counted from the notices (the header keeps its own)."""
    return db.session.scalar(
        select(func.count())
        .select_from(Notice)
        .where(Notice.user_id == user_id, Notice.read_at.is_(None))
    )
