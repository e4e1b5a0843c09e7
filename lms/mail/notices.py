"""Notices a person may turn off, and the signed link that turns one off from the mail.

Every kind in ``NOTICE_KINDS`` is sent unless the person opted out (a ``mail_opt_out`` row);
security mail (``lms.mail.SECURITY_KINDS``: invitations, reset links) is always sent and is
not listed here. Each notice carries a signed unsubscribe link (in the text and as a
``List-Unsubscribe`` header) that turns off that one kind without logging in.

The domains above call ``notify_many`` with the people and the text; this module knows people
only by id, email and name (core imports no domain).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select

from lms import links
from lms.errors import InvalidInput, NotFound
from lms.extensions import db
from lms.mail import Message, send_many
from lms.mail.models import MailOptOut

# kind -> what the account page says it is; the order is the page's
NOTICE_KINDS: dict[str, str] = {
    "evidence_decided": "When your evidence is verified or rejected",
    "certificate": "When a certificate is issued to you, revoked, or about to expire",
    "study_digest": "Each Monday, the modules of your study plan due that week",
    "at_risk_digest": "Each Monday, the students of your cohorts who are at risk",
}
# who each kind can reach (a role's value): the account page offers only these
KINDS_FOR_ROLE: dict[str, tuple[str, ...]] = {
    "student": ("evidence_decided", "certificate", "study_digest"),
    "instructor": ("at_risk_digest",),
    "admin": ("at_risk_digest",),
}


def kinds_for(role: str) -> dict[str, str]:
    """The kinds offered to a person of this role (a role's value), with their words."""
    return {kind: NOTICE_KINDS[kind] for kind in KINDS_FOR_ROLE.get(role, ())}


UNSUBSCRIBE_SALT = "lms.mail.unsubscribe"


@dataclass(frozen=True)
class Notice:
    """One notice to one person: ``key`` names its occasion, so it is sent once."""

    user_id: int
    email: str
    subject: str
    body: str
    key: str


def opted_out(user_id: int) -> set[str]:
    """The kinds this person turned off."""
    return set(db.session.scalars(select(MailOptOut.kind).where(MailOptOut.user_id == user_id)))


def set_wanted(user_id: int, role: str, wanted: Iterable[str], now: datetime) -> set[str]:
    """Of the kinds offered to ``role``, keep exactly those in ``wanted`` on (the rest off);
    the kinds now off."""
    offered = kinds_for(role)
    wanted = set(wanted)
    if wanted - offered.keys():
        raise InvalidInput("Choose among the notices listed.", field="wanted")
    off = set(offered) - wanted
    db.session.execute(
        delete(MailOptOut).where(MailOptOut.user_id == user_id, MailOptOut.kind.in_(offered))
    )
    db.session.add_all(MailOptOut(user_id=user_id, kind=kind, created_at=now) for kind in off)
    db.session.flush()
    return off


def notify_many(kind: str, notices: Sequence[Notice], now: datetime) -> int:
    """Queue each notice whose person has not turned ``kind`` off; how many were queued.
    One query for the preferences whatever the number of people."""
    if kind not in NOTICE_KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    if not notices:
        return 0
    off = set(
        db.session.scalars(
            select(MailOptOut.user_id).where(
                MailOptOut.kind == kind,
                MailOptOut.user_id.in_({notice.user_id for notice in notices}),
            )
        )
    )
    label = NOTICE_KINDS[kind]
    what = label[0].lower() + label[1:]
    messages = []
    for notice in notices:
        if notice.user_id in off:
            continue
        link = unsubscribe_url(notice.user_id, kind)
        body = (
            f"{notice.body.rstrip()}\n\n--\nTo stop these emails ({what}), "
            f"open {link}\nor choose on your account page which emails you receive.\n"
        )
        message = Message(notice.email, notice.subject, body, unsubscribe_url=link)
        messages.append((message, kind, notice.key))
    return send_many(messages, now=now)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(user_id: int, kind: str) -> str:
    """A token naming a person and a kind, signed with the secret key."""
    return _serializer().dumps({"user": user_id, "kind": kind})


def unsubscribe_url(user_id: int, kind: str) -> str:
    return links.external_url("account.unsubscribe", token=unsubscribe_token(user_id, kind))


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    """The (user id, kind) of a genuine token; ``NotFound`` for anything else."""
    try:
        data = _serializer().loads(token)
        user_id, kind = int(data["user"]), str(data["kind"])
    except (BadSignature, KeyError, TypeError, ValueError) as error:
        raise NotFound("This unsubscribe link is not valid.") from error
    if kind not in NOTICE_KINDS:
        raise NotFound("This unsubscribe link is not valid.")
    return user_id, kind


def unsubscribe(user_id: int, kind: str, now: datetime) -> bool:
    """Turn one kind off; False if it already was."""
    if db.session.get(MailOptOut, (user_id, kind)) is not None:
        return False
    db.session.add(MailOptOut(user_id=user_id, kind=kind, created_at=now))
    db.session.flush()
    return True
